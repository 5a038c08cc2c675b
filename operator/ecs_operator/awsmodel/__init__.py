"""botocore's models of the AWS APIs this project speaks, as Python data, and the one checker of requests.

`ecs.py`, `sts.py` and `autoscaling.py` are generated (`python -m ecs_operator.awsmodel.generate`) from the
models botocore ships: the shapes of the operations the endpoint serves, which the custom resources' specs
are too (`resources/spec_shapes.py` builds their pydantic models from `ecs.SHAPES` and `ecs.DOCS`).
`check.py` checks a value against a shape member by member (types, required and unknown members, enums,
lengths, ranges, patterns), naming each member at fault by its JSON path.
"""
