"""Pure plans for the desired state the ECS API writes (`labels.INSTANCE_DESIRED_STATUS`,
`labels.STOP_TASKS`, `labels.FORCE_NEW_DEPLOYMENT`): what the operator must do, computed from what the
caches show, with no I/O. The operator's reconciles call them and perform the writes."""
