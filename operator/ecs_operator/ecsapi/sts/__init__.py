"""AWS STS beside the ECS endpoint (`operations`, `protocol`), and what the command line needs of it."""

DEFAULT_AUDIENCE = "sts.amazonaws.com"  # the `aud` web identity tokens carry unless configured otherwise
