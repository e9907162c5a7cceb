"""Stands in for `docker build` / `docker push` in the deploy tests: records what it was asked to
do, and a push puts the image into the (moto) ECR the deploy talks to, like a real push.
Standard library only, so each call starts in milliseconds."""

import json
import os
import sys
import urllib.request

action, image = sys.argv[1], sys.argv[2]
with open(os.environ["FAKE_REGISTRY_LOG"], "a") as log:
    log.write(json.dumps([action, *sys.argv[2:]]) + "\n")
if action == "build" and os.environ.get("FAKE_REGISTRY_FAIL_BUILD") == image.rsplit("/", 1)[1]:
    print("step 3/9: uv sync failed", file=sys.stderr)
    sys.exit(1)
if action == "push":
    registry_and_repo, tag = image.rsplit(":", 1)
    registry, repository = registry_and_repo.split("/", 1)
    region = registry.split(".")[3]
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": f"sha256:{tag:0>64}"},
        "layers": [],
    }
    body = {"repositoryName": repository, "imageManifest": json.dumps(manifest), "imageTag": tag}
    request = urllib.request.Request(  # noqa: S310 - the moto server's http URL
        os.environ["FAKE_REGISTRY_ECR"],
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.PutImage",
            # moto reads the region from the credential scope; it checks no signature.
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/ecr/"
            "aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200, response.read()
