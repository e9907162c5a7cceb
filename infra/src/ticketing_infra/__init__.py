"""Ships the ticketing platform to AWS: the CDK app and the `deploy` CLI."""
