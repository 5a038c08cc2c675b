"""Label, annotation, finalizer and taint names shared by every layer (the contract in DESIGN.md).

Every such name the operator reads or writes is defined here and nowhere else.
"""

from ecs_operator import API_GROUP

# Labels on everything the operator creates.
CLUSTER = f"{API_GROUP}/cluster"
SERVICE = f"{API_GROUP}/service"
TASK = f"{API_GROUP}/task"
FAMILY = f"{API_GROUP}/family"
REVISION = f"{API_GROUP}/revision"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "ecs-operator"
MANAGED_SELECTOR = f"{MANAGED_BY}={MANAGED_BY_VALUE}"

# Nodes: a container instance of cluster X carries CLUSTER=X (and CAPACITY=ec2); the serverless pool that
# FARGATE tasks run on carries CAPACITY=fargate and the FARGATE taint, so nothing else lands there.
CAPACITY = f"{API_GROUP}/capacity"
CAPACITY_EC2 = "ec2"
CAPACITY_FARGATE = "fargate"
FARGATE_TAINT_KEY = CAPACITY
FARGATE_TAINT_VALUE = CAPACITY_FARGATE
FARGATE_TAINT_EFFECT = "NoSchedule"
# Nodes of an EC2 capacity provider (EcsCapacityProvider) carry its name: the pool a strategy naming it uses.
CAPACITY_PROVIDER = f"{API_GROUP}/capacity-provider"

# Task definition revisions (ControllerRevisions in the account namespace): ACTIVE, INACTIVE or
# DELETE_IN_PROGRESS, and the family when it does not fit a label value. On the EcsTaskDefinition (see
# revisions.py): the highest revision number claimed, the revisions deregistered ("1,3-5") and deleted, and
# each revision's tags (JSON).
REVISION_STATUS = f"{API_GROUP}/status"
REVISION_FAMILY = f"{API_GROUP}/family"
LATEST_REVISION = f"{API_GROUP}/latest-revision"
DEREGISTER = f"{API_GROUP}/deregister"
DELETE_REVISIONS = f"{API_GROUP}/delete"
REVISION_TAGS = f"{API_GROUP}/revision-tags"

# The account settings ConfigMap in the account namespace (account.py).
ACCOUNT_SETTINGS = f"{API_GROUP}/account-settings"

# On children: the hash of what the operator applied (drift and intent changes are told apart by it).
INTENT_ANNOTATION = f"{API_GROUP}/applied-intent"
# On pod templates and task Pods: the task definition revision (`family:N`) they run.
TASK_DEFINITION_ANNOTATION = f"{API_GROUP}/task-definition"
# On a service's pod template (so on its ReplicaSets and tasks): the ECS deployment it belongs to and the
# digest of the template that deployment deploys. On the EcsService: the id the ECS API answered with for
# the template it expects (JSON {"key", "id"}); see plans/deployment.py.
DEPLOYMENT_ID = f"{API_GROUP}/deployment-id"
DEPLOYMENT_KEY = f"{API_GROUP}/deployment-key"
DEPLOYMENT_PIN = f"{API_GROUP}/deployment"
# On task Pods: RunTask's group, startedBy and referenceId.
GROUP_ANNOTATION = f"{API_GROUP}/group"
STARTED_BY_ANNOTATION = f"{API_GROUP}/started-by"
REFERENCE_ID_ANNOTATION = f"{API_GROUP}/reference-id"
# On pods: what Kubernetes has no field for, kept for humans and tools.
DOCKER_LABELS_ANNOTATION = f"{API_GROUP}/docker-labels"
LOG_CONFIGURATION_ANNOTATION = f"{API_GROUP}/log-configuration"
TAGS_ANNOTATION = f"{API_GROUP}/tags"
# Docker labels under this prefix are instructions to the platform and travel to the Pods as annotations.
PLATFORM_PREFIX = f"{API_GROUP}/"

# Finalizers. DRAIN keeps an EcsService while its tasks stop (ECS's DRAINING); CLUSTER_PROTECTION keeps an
# EcsCluster while it still has services or tasks (ECS refuses DeleteCluster then). LEGACY_FINALIZER is
# kopf's finalizer of operator versions before 0.2, removed where it is found.
DRAIN_FINALIZER = f"{API_GROUP}/drain"
CLUSTER_PROTECTION_FINALIZER = f"{API_GROUP}/cluster-protection"
LEGACY_FINALIZER = f"{API_GROUP}/finalizer"

# Argo CD's tracking metadata: never copied onto children (Argo CD would prune them as its own).
ARGOCD_TRACKING_PREFIXES = ("app.kubernetes.io/instance", "argocd.argoproj.io/")

# Desired state the ECS API (and `kubectl annotate`) writes and the operator reconciles; docs/ecs-api.md.
# On a Node: ACTIVE or DRAINING (UpdateContainerInstancesState). `kubectl cordon` alone reads as DRAINING.
INSTANCE_DESIRED_STATUS = f"{API_GROUP}/container-instance-status"
# On an EcsService or EcsTask: JSON object {"<task id>": "<reason>"} of tasks to stop (StopTask).
STOP_TASKS = f"{API_GROUP}/stop-tasks"
# On an EcsService or EcsTask created while its creator had opted out of the long ARN format (account
# settings serviceLongArnFormat / taskLongArnFormat): its ARNs are short (`service/<name>`, `task/<id>`).
ARN_FORMAT = f"{API_GROUP}/arn-format"
ARN_FORMAT_SHORT = "short"
# On an EcsTask: how many seconds after its last task stopped the operator deletes it (RunTask sets an hour,
# as ECS forgets stopped tasks; an EcsTask applied with kubectl stays unless it says so).
EXPIRE_AFTER_STOPPED = f"{API_GROUP}/expire-after-stopped"
# On an EcsService: any new value starts a new deployment of the same revision (forceNewDeployment).
FORCE_NEW_DEPLOYMENT = f"{API_GROUP}/force-new-deployment"
# On a task Pod the operator stops: ECS's stopCode and stoppedReason, read after the Pod is gone.
STOP_CODE = f"{API_GROUP}/stop-code"
STOPPED_REASON = f"{API_GROUP}/stopped-reason"

# The local cluster's kwok Stages: a Pod (template) annotated with FAIL_EXIT_CODE "N" has its containers exit
# with N (with FAIL_CONTAINER "<name>", only that one). Tests and the docs' failure drills set them.
KWOK_FAIL_EXIT_CODE_ANNOTATION = f"{API_GROUP}/kwok-fail-exit-code"
KWOK_FAIL_CONTAINER_ANNOTATION = f"{API_GROUP}/kwok-fail-container"
