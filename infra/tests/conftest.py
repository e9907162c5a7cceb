import os

# jsii warns on every start that Node 20 is past its end of life; the synth works the same.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
