"""The AWS CDK app: the platform (network, data stores, cluster, edge of the API), the ECS
services, and the frontend's CloudFront edge."""
