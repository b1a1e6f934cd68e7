#!/usr/bin/env python3
"""Smoke test of the local cloud with boto3 (issue 16, point 3).

It builds and starts a stepped local cloud on a free loopback port, exactly as
test/smoke/awscli.sh does, and drives it with real boto3 clients, checking
the values that come back, not only that no exception was raised:

    python3 test/smoke/boto3_smoke.py           # from anywhere in the repository
    python3 test/smoke/boto3_smoke.py --url URL # against a local cloud already running (stepped, nothing deployed)

It prints "ok   <check>" per check and a final count, and exits 1 with
"FAIL: <check>: got ..., want ..." at the first failure. boto3 and botocore
come with the machine's python3 (docs: FIELD-NOTES section 1); if either is
missing the test fails, naming it: it never skips.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
REGION = "us-east-1"
ACCOUNT = "123456789012"

passed = 0
last_check = "(start)"


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def check(name, got, want):
    global passed, last_check
    if got != want:
        fail(f"{name}: got {got!r}, want {want!r}")
    passed += 1
    last_check = name
    print(f"ok   {name}", flush=True)


# Fail loudly, naming the package, when the machine lacks AWS's SDK for Python.
for _pkg in ("botocore", "boto3"):
    try:
        __import__(_pkg)
    except ImportError as exc:
        fail(f"import {_pkg}: got {exc}, want the {_pkg} package installed "
             f"(the machine's python3 carries boto3/botocore 1.43; see FIELD-NOTES section 1)")

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


# --- the local cloud ---------------------------------------------------------

class LocalCloud:
    """Builds phoenix-localcloud and runs it stepped on 127.0.0.1:0."""

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="boto3-smoke-")
        self.proc = None
        self.url = None

    def start(self):
        node_modules = os.path.join(ROOT, "test", "node", "node_modules")
        if not os.path.isdir(node_modules):
            print("boto3_smoke: test/node/node_modules is missing; running npm ci --prefix test/node", flush=True)
            subprocess.run(["npm", "ci", "--prefix", "test/node", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=ROOT, check=True)
        binary = os.path.join(self.workdir, "phoenix-localcloud")
        t0 = time.monotonic()
        subprocess.run(["go", "build", "-o", binary, "./test/localcloud/cmd/phoenix-localcloud"], cwd=ROOT, check=True)
        print(f"boto3_smoke: built the local cloud in {time.monotonic() - t0:.1f}s", flush=True)
        self.out = open(os.path.join(self.workdir, "out"), "w+")
        self.err = open(os.path.join(self.workdir, "err"), "w+")
        # From the repository root, so that dynalite is found in test/node.
        self.proc = subprocess.Popen([binary, "-addr", "127.0.0.1:0", "-stepped", "-no-deploy"],
                                     cwd=ROOT, stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL)
        prefix = "Phoenix local cloud on "
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.out.name) as f:
                for line in f:
                    line = line.strip()
                    if line.startswith(prefix) and line[len(prefix):].startswith("http:"):
                        self.url = line[len(prefix):]
                        return self.url
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        with open(self.err.name) as f:
            fail(f"start the local cloud: got exit {self.proc.poll()} and stderr {f.read()!r}, want its URL on stdout")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # it stops dynalite, its child, too
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


# --- helpers -----------------------------------------------------------------

class Admin:
    def __init__(self, url):
        self.url = url.rstrip("/") + "/_phoenix/"

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            fail(f"admin {method} {path}: got HTTP {exc.code} {exc.read()!r}, want 2xx")

    def advance(self, seconds):
        return self.call("POST", "clock/advance", {"seconds": seconds})

    def now(self):
        return self.call("GET", "clock")["now"]

    def events(self):
        return self.call("GET", "events")["events"]

    def messages(self, topic_arn):
        return self.call("GET", "sns/messages?topicArn=" + urllib.request.quote(topic_arn, safe=""))["messages"]


def error_code(name, fn, **kwargs):
    """Calls fn and returns the AWS error code boto3 parsed; fails if it succeeds."""
    try:
        out = fn(**kwargs)
    except ClientError as exc:
        return exc.response["Error"].get("Code")
    out.pop("ResponseMetadata", None)
    fail(f"{name}: got success {out!r}, want an error")


def parse_time(s):
    """Parses Go's RFC 3339 time (up to nine fractional digits) as an aware datetime."""
    s = re.sub(r"(\.\d{6})\d+", r"\1", s.replace("Z", "+00:00"))
    return datetime.fromisoformat(s)


# --- the checks --------------------------------------------------------------

def run(url):
    admin = Admin(url)
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name=REGION)
    cfg = Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=60)

    def client(name):
        return session.client(name, endpoint_url=url, config=cfg)

    ec2, asg, elb = client("ec2"), client("autoscaling"), client("elbv2")
    cw, events, ssm, sns = client("cloudwatch"), client("events"), client("ssm"), client("sns")
    sfn, ddb, ib, sts = client("stepfunctions"), client("dynamodb"), client("imagebuilder"), client("sts")

    check("sts get_caller_identity answers the local account", sts.get_caller_identity()["Account"], ACCOUNT)

    # -- images and launch templates --
    def register(name, tags):
        return ec2.register_image(Name=name, Architecture="x86_64", RootDeviceName="/dev/xvda",
                                  TagSpecifications=[{"ResourceType": "image",
                                                      "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])["ImageId"]

    ami1 = register("boto3-smoke-v1", {"app": "web", "release": "1"})
    check("a registered image starts pending",
          ec2.describe_images(ImageIds=[ami1])["Images"][0]["State"], "pending")
    ami2 = register("boto3-smoke-v2", {"app": "web", "release": "2"})
    ami_bad = register("boto3-smoke-bad", {"app": "other", "phoenix-sim:behavior": "fail-launch"})
    admin.advance(600)
    imgs = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:app", "Values": ["web"]}])["Images"]
    check("a tag filter finds exactly the two web images, available after the registration delay",
          sorted((i["ImageId"], i["State"]) for i in imgs), sorted([(ami1, "available"), (ami2, "available")]))
    img1 = ec2.describe_images(ImageIds=[ami1])["Images"][0]
    check("an image keeps its tags, name, architecture and owner",
          ({t["Key"]: t["Value"] for t in img1.get("Tags", [])}, img1["Name"], img1["Architecture"], img1["OwnerId"]),
          ({"app": "web", "release": "1"}, "boto3-smoke-v1", "x86_64", ACCOUNT))
    ec2.create_tags(Resources=[ami2], Tags=[{"Key": "channel", "Value": "beta"}])
    imgs = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag-key", "Values": ["channel"]}])["Images"]
    check("CreateTags tags an image, a tag-key filter finds it",
          [(i["ImageId"], {t["Key"]: t["Value"] for t in i["Tags"]}) for i in imgs],
          [(ami2, {"app": "web", "release": "2", "channel": "beta"})])
    imgs = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:release", "Values": ["*"]},
                                                          {"Name": "name", "Values": ["boto3-smoke-v*"]}])["Images"]
    check("wildcard filters on tag and name combine", sorted(i["ImageId"] for i in imgs), sorted([ami1, ami2]))
    check("an unknown image id gives InvalidAMIID.NotFound",
          error_code("describe unknown image", ec2.describe_images, ImageIds=["ami-00000000000000000"]),
          "InvalidAMIID.NotFound")

    lt = ec2.create_launch_template(LaunchTemplateName="boto3-smoke-web",
                                    LaunchTemplateData={"ImageId": ami1, "InstanceType": "t3.micro"})["LaunchTemplate"]
    lt_id = lt["LaunchTemplateId"]
    check("a new launch template has version 1 as default and latest",
          (lt["DefaultVersionNumber"], lt["LatestVersionNumber"]), (1, 1))
    v2 = ec2.create_launch_template_version(LaunchTemplateId=lt_id, SourceVersion="1", VersionDescription="v2",
                                            LaunchTemplateData={"ImageId": ami2})["LaunchTemplateVersion"]
    check("a version from SourceVersion 1 is numbered 2 and keeps the instance type",
          (v2["VersionNumber"], v2["LaunchTemplateData"]["ImageId"], v2["LaunchTemplateData"].get("InstanceType")),
          (2, ami2, "t3.micro"))

    def lt_version(ref):
        vs = ec2.describe_launch_template_versions(LaunchTemplateId=lt_id, Versions=[ref])["LaunchTemplateVersions"]
        return [(v["VersionNumber"], v["LaunchTemplateData"]["ImageId"], v["DefaultVersion"]) for v in vs]

    check("$Latest is version 2, $Default still version 1",
          (lt_version("$Latest"), lt_version("$Default")), ([(2, ami2, False)], [(1, ami1, True)]))
    ec2.modify_launch_template(LaunchTemplateId=lt_id, DefaultVersion="2")
    d = ec2.describe_launch_templates(LaunchTemplateNames=["boto3-smoke-web"])["LaunchTemplates"][0]
    check("ModifyLaunchTemplate makes version 2 the default",
          (d["DefaultVersionNumber"], d["LatestVersionNumber"], lt_version("$Default")), (2, 2, [(2, ami2, True)]))
    ec2.modify_launch_template(LaunchTemplateId=lt_id, DefaultVersion="1")
    check("and back to version 1", lt_version("$Default"), [(1, ami1, True)])

    # -- a group behind a load balancer --
    tg = elb.create_target_group(Name="boto3-smoke-web", Protocol="HTTP", Port=80, VpcId="vpc-0123456789abcdef0",
                                 TargetType="instance", HealthCheckPath="/health",
                                 HealthCheckIntervalSeconds=10, HealthyThresholdCount=2,
                                 UnhealthyThresholdCount=2)["TargetGroups"][0]
    tg_arn = tg["TargetGroupArn"]
    check("a target group keeps its health check settings",
          (tg["Protocol"], tg["Port"], tg["HealthCheckPath"], tg["HealthyThresholdCount"]), ("HTTP", 80, "/health", 2))
    lb = elb.create_load_balancer(Name="boto3-smoke-web", Type="application", Scheme="internet-facing",
                                  Subnets=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"])["LoadBalancers"][0]
    check("a load balancer is an application load balancer", lb["Type"], "application")
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])["Listeners"][0]
    ls = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    check("the listener forwards to the target group",
          [(x["ListenerArn"], x["Port"], x["DefaultActions"][0]["TargetGroupArn"]) for x in ls],
          [(listener["ListenerArn"], 80, tg_arn)])
    check("the target group names its load balancer",
          elb.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"][0]["LoadBalancerArns"],
          [lb["LoadBalancerArn"]])

    asg.create_auto_scaling_group(AutoScalingGroupName="boto3-smoke-web", MinSize=2, MaxSize=4, DesiredCapacity=2,
                                  LaunchTemplate={"LaunchTemplateId": lt_id, "Version": "1"},
                                  AvailabilityZones=["us-east-1a", "us-east-1b"], TargetGroupARNs=[tg_arn],
                                  HealthCheckType="ELB", HealthCheckGracePeriod=300, DefaultInstanceWarmup=60)
    admin.advance(600)

    def group():
        return asg.describe_auto_scaling_groups(AutoScalingGroupNames=["boto3-smoke-web"])["AutoScalingGroups"][0]

    g = group()
    check("the group launches two instances, InService and Healthy, on version 1",
          sorted((i["LifecycleState"], i["HealthStatus"], i["LaunchTemplate"]["Version"]) for i in g["Instances"]),
          [("InService", "Healthy", "1")] * 2)
    check("the group names its target group", g["TargetGroupARNs"], [tg_arn])
    ids = sorted(i["InstanceId"] for i in g["Instances"])
    th = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    check("both instances are registered and healthy targets",
          sorted((t["Target"]["Id"], t["TargetHealth"]["State"]) for t in th), [(i, "healthy") for i in ids])
    rs = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    check("the instances run the version 1 image",
          sorted((i["State"]["Name"], i["ImageId"]) for r in rs for i in r["Instances"]), [("running", ami1)] * 2)

    # -- an instance refresh with a checkpoint, then a rollback --
    rid = asg.start_instance_refresh(
        AutoScalingGroupName="boto3-smoke-web", Strategy="Rolling",
        DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": lt_id, "Version": "2"}},
        Preferences={"MinHealthyPercentage": 50, "InstanceWarmup": 60, "SkipMatching": False,
                     "CheckpointPercentages": [50, 100], "CheckpointDelay": 3600})["InstanceRefreshId"]
    check("a second refresh is refused with InstanceRefreshInProgress",
          error_code("second refresh", asg.start_instance_refresh, AutoScalingGroupName="boto3-smoke-web"),
          "InstanceRefreshInProgress")

    def refresh():
        return asg.describe_instance_refreshes(AutoScalingGroupName="boto3-smoke-web",
                                               InstanceRefreshIds=[rid])["InstanceRefreshes"][0]

    admin.advance(600)
    r = refresh()
    check("the refresh waits at its 50% checkpoint",
          (r["Status"], r.get("PercentageComplete"), r["Preferences"]["CheckpointPercentages"],
           r["Preferences"]["CheckpointDelay"]), ("InProgress", 50, [50, 100], 3600))
    cps = [e for e in admin.events() if e.get("detail-type") == "EC2 Auto Scaling Instance Refresh Checkpoint Reached"]
    check("one Checkpoint Reached event, for this refresh at 50%",
          [(e["detail"]["InstanceRefreshId"], e["detail"]["CheckpointPercentage"]) for e in cps], [(rid, "50")])
    g = group()
    check("at the checkpoint one instance runs version 2 and the group still names version 1",
          (sorted(i["LaunchTemplate"]["Version"] for i in g["Instances"] if i["LifecycleState"] == "InService"),
           g["LaunchTemplate"]["Version"]), (["1", "2"], "1"))
    asg.rollback_instance_refresh(AutoScalingGroupName="boto3-smoke-web")
    check("RollbackInstanceRefresh starts a rollback", refresh()["Status"], "RollbackInProgress")
    admin.advance(900)
    r = refresh()
    check("the rollback succeeds", r["Status"], "RollbackSuccessful")
    g = group()
    check("the group is back on version 1, every instance on version 1 and InService",
          (g["LaunchTemplate"]["Version"],
           sorted((i["LifecycleState"], i["LaunchTemplate"]["Version"]) for i in g["Instances"])),
          ("1", [("InService", "1")] * 2))
    ids = sorted(i["InstanceId"] for i in g["Instances"])
    th = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    check("after the rollback the group's instances are the healthy targets",
          sorted((t["Target"]["Id"], t["TargetHealth"]["State"]) for t in th if t["TargetHealth"]["State"] != "draining"),
          [(i, "healthy") for i in ids])

    # An AutoRollback refresh to an image whose instances never launch.
    v3 = ec2.create_launch_template_version(LaunchTemplateId=lt_id, SourceVersion="1",
                                            LaunchTemplateData={"ImageId": ami_bad})["LaunchTemplateVersion"]
    check("a third version carries the fail-launch image", (v3["VersionNumber"], v3["LaunchTemplateData"]["ImageId"]),
          (3, ami_bad))
    rid = asg.start_instance_refresh(
        AutoScalingGroupName="boto3-smoke-web",
        DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": lt_id, "Version": "3"}},
        Preferences={"MinHealthyPercentage": 50, "InstanceWarmup": 60, "AutoRollback": True})["InstanceRefreshId"]
    admin.advance(4000)
    r = refresh()
    check("an AutoRollback refresh to a fail-launch image ends RollbackSuccessful", r["Status"], "RollbackSuccessful")
    g = group()
    check("the group stays on version 1, every instance on version 1 and InService",
          (g["LaunchTemplate"]["Version"],
           sorted((i["LifecycleState"], i["LaunchTemplate"]["Version"]) for i in g["Instances"])),
          ("1", [("InService", "1")] * 2))

    # -- CloudWatch alarms and metrics (awsJson1.0 with this boto3) --
    sent = []
    cw.meta.events.register("before-send.cloudwatch",
                            lambda request, **_: sent.append((request.headers.get("Content-Type", b""),
                                                              request.headers.get("X-Amz-Target", b""))))
    check("boto3 speaks JSON to CloudWatch", cw.meta.service_model.resolved_protocol, "json")
    now = parse_time(admin.now())
    dims = [{"Name": "Service", "Value": "web"}]
    cw.put_metric_alarm(AlarmName="boto3-smoke-errors", Namespace="Boto3Smoke", MetricName="Errors", Dimensions=dims,
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    check("PutMetricAlarm went over awsJson1.0",
          [tuple(v.decode() if isinstance(v, bytes) else v for v in h) for h in sent],
          [("application/x-amz-json-1.0", "GraniteServiceVersion20100801.PutMetricAlarm")])
    a = cw.describe_alarms(AlarmNames=["boto3-smoke-errors"])["MetricAlarms"]
    check("a new alarm starts INSUFFICIENT_DATA",
          [(x["AlarmName"], x["StateValue"], x["Threshold"], x["ComparisonOperator"]) for x in a],
          [("boto3-smoke-errors", "INSUFFICIENT_DATA", 5.0, "GreaterThanThreshold")])
    cw.put_metric_data(Namespace="Boto3Smoke", MetricData=[
        {"MetricName": "Errors", "Dimensions": dims, "Timestamp": now, "Value": 4, "Unit": "Count"},
        {"MetricName": "Errors", "Dimensions": dims, "Timestamp": now, "Value": 3, "Unit": "Count"}])
    admin.advance(120)
    minute = now.replace(second=0, microsecond=0)
    out = cw.get_metric_data(StartTime=minute - timedelta(minutes=5), EndTime=minute + timedelta(minutes=5),
                             MetricDataQueries=[{"Id": "errors", "ReturnData": True, "MetricStat": {
                                 "Metric": {"Namespace": "Boto3Smoke", "MetricName": "Errors", "Dimensions": dims},
                                 "Period": 60, "Stat": "Sum"}}])["MetricDataResults"]
    check("GetMetricData sums the two data points in their minute",
          [(x["Id"], x["StatusCode"], x["Values"]) for x in out], [("errors", "Complete", [7.0])])
    check("GetMetricData's timestamp is the data's minute",
          [t.replace(tzinfo=None) for t in out[0]["Timestamps"]], [minute.replace(tzinfo=None)])
    check("the alarm goes to ALARM on 7 > 5",
          cw.describe_alarms(AlarmNames=["boto3-smoke-errors"])["MetricAlarms"][0]["StateValue"], "ALARM")
    cw.set_alarm_state(AlarmName="boto3-smoke-errors", StateValue="OK", StateReason="boto3 smoke says so")
    a = cw.describe_alarms(AlarmNames=["boto3-smoke-errors"], StateValue="OK")["MetricAlarms"]
    check("SetAlarmState sets OK with its reason", [(x["StateValue"], x["StateReason"]) for x in a],
          [("OK", "boto3 smoke says so")])
    h = cw.describe_alarm_history(AlarmName="boto3-smoke-errors", HistoryItemType="StateUpdate",
                                  ScanBy="TimestampAscending")["AlarmHistoryItems"]
    summaries = [x["HistorySummary"] for x in h]
    # notBreaching: the empty minute before the data is OK, then 7 > 5 is ALARM, then SetAlarmState.
    check("the history has every state change, in order",
          summaries, ["Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from OK to ALARM",
                      "Alarm updated from ALARM to OK"])
    data = json.loads(h[-1]["HistoryData"])
    check("the history data names the old and new states",
          (data["oldState"]["stateValue"], data["newState"]["stateValue"]), ("ALARM", "OK"))
    try:
        cw.get_dashboard(DashboardName="boto3-smoke-missing")
        fail("a missing dashboard: got a dashboard, want an error")
    except ClientError as exc:
        err = exc.response["Error"]
        check("a missing dashboard gives ResourceNotFound (DashboardNotFoundError), HTTP 404",
              (err.get("Code"), err.get("QueryErrorCode"), exc.response["ResponseMetadata"]["HTTPStatusCode"]),
              ("ResourceNotFound", "DashboardNotFoundError", 404))
        # DashboardNotFoundError and ResourceNotFound share the query code
        # ResourceNotFound; botocore maps the code to the modeled class it saw last.
        check("boto3 raises it as a modeled exception, CloudWatch.Client.exceptions.ResourceNotFound",
              type(exc).__name__, "ResourceNotFound")
    check("DescribeAlarms of an unknown name answers none, not an error",
          cw.describe_alarms(AlarmNames=["boto3-smoke-none"])["MetricAlarms"], [])

    # -- SNS --
    topic = sns.create_topic(Name="boto3-smoke")["TopicArn"]
    check("CreateTopic answers the topic's ARN", topic, f"arn:aws:sns:{REGION}:{ACCOUNT}:boto3-smoke")
    mid = sns.publish(TopicArn=topic, Subject="hello", Message="from boto3")["MessageId"]
    msgs = admin.messages(topic)
    check("the published message is visible through the admin API",
          [(m["MessageID"], m["Subject"], m["Message"]) for m in msgs], [(mid, "hello", "from boto3")])

    # -- SSM Parameter Store --
    check("PutParameter of a String is version 1",
          ssm.put_parameter(Name="/boto3-smoke/color", Value="blue", Type="String")["Version"], 1)
    check("an overwrite is version 2",
          ssm.put_parameter(Name="/boto3-smoke/color", Value="green", Type="String", Overwrite=True)["Version"], 2)
    check("a put without Overwrite gives ParameterAlreadyExists",
          error_code("put existing", ssm.put_parameter, Name="/boto3-smoke/color", Value="red", Type="String"),
          "ParameterAlreadyExists")
    p = ssm.get_parameter(Name="/boto3-smoke/color")["Parameter"]
    check("GetParameter answers the latest value", (p["Value"], p["Version"], p["Type"], p["DataType"]),
          ("green", 2, "String", "text"))
    out = ssm.label_parameter_version(Name="/boto3-smoke/color", ParameterVersion=1, Labels=["stable"])
    check("LabelParameterVersion labels version 1", (out["ParameterVersion"], out["InvalidLabels"]), (1, []))
    p = ssm.get_parameter(Name="/boto3-smoke/color:stable")["Parameter"]
    check("a label selects its version", (p["Value"], p["Version"], p["Selector"]), ("blue", 1, ":stable"))
    p = ssm.get_parameter(Name="/boto3-smoke/color:2")["Parameter"]
    check("a version number selects it", (p["Value"], p["Version"]), ("green", 2))
    hist = ssm.get_parameter_history(Name="/boto3-smoke/color")["Parameters"]
    check("the history has both versions with the label",
          [(x["Version"], x["Value"], x["Labels"]) for x in hist], [(1, "blue", ["stable"]), (2, "green", [])])
    check("PutParameter of an aws:ec2:image with the registered AMI",
          ssm.put_parameter(Name="/boto3-smoke/ami", Value=ami1, Type="String", DataType="aws:ec2:image")["Version"], 1)
    p = ssm.get_parameter(Name="/boto3-smoke/ami")["Parameter"]
    check("GetParameter answers the AMI with its data type", (p["Value"], p["DataType"]), (ami1, "aws:ec2:image"))

    # -- Step Functions with a task token --
    definition = {
        "Comment": "boto3 smoke: wait for a human through SNS",
        "StartAt": "Ask",
        "States": {
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                    "Parameters": {"TopicArn": topic, "Subject": "approve",
                                   "Message": {"token.$": "$$.Task.Token", "image.$": "$.image"}},
                    "TimeoutSeconds": 3600, "End": True}}}
    sm = sfn.create_state_machine(name="boto3-smoke-approve", definition=json.dumps(definition),
                                  roleArn=f"arn:aws:iam::{ACCOUNT}:role/boto3-smoke")["stateMachineArn"]
    check("CreateStateMachine answers the ARN", sm, f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:boto3-smoke-approve")
    ex = sfn.start_execution(stateMachineArn=sm, name="run-1", input=json.dumps({"image": ami1}))["executionArn"]
    admin.advance(1)
    check("the execution waits for its task token", sfn.describe_execution(executionArn=ex)["status"], "RUNNING")
    msgs = [m for m in admin.messages(topic) if m["Subject"] == "approve"]
    check("the task published one message", len(msgs), 1)
    body = json.loads(msgs[0]["Message"])
    check("the message carries the input and a token", (body["image"], bool(body.get("token"))), (ami1, True))
    out = {"approved": True, "by": "boto3"}
    sfn.send_task_success(taskToken=body["token"], output=json.dumps(out))
    admin.advance(1)
    d = sfn.describe_execution(executionArn=ex)
    check("the execution SUCCEEDED with the task's output", (d["status"], json.loads(d["output"])), ("SUCCEEDED", out))
    check("a second SendTaskSuccess with the same token gives TaskTimedOut",
          error_code("second send", sfn.send_task_success, taskToken=body["token"], output="{}"), "TaskTimedOut")

    # -- EventBridge --
    pattern = {"source": ["aws.autoscaling"], "detail-type": ["EC2 Auto Scaling Instance Refresh Checkpoint Reached"],
               "detail": {"AutoScalingGroupName": [{"prefix": "boto3-"}]}}
    rule_arn = events.put_rule(Name="boto3-smoke-checkpoints", EventPattern=json.dumps(pattern))["RuleArn"]
    check("PutRule answers the rule's ARN", rule_arn, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/boto3-smoke-checkpoints")
    out = events.put_targets(Rule="boto3-smoke-checkpoints", Targets=[{"Id": "approve", "Arn": sm,
                                                                         "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/boto3-smoke-events"}])
    check("PutTargets accepts the state machine", (out["FailedEntryCount"], out["FailedEntries"]), (0, []))
    check("ListTargetsByRule shows it",
          [(t["Id"], t["Arn"]) for t in events.list_targets_by_rule(Rule="boto3-smoke-checkpoints")["Targets"]],
          [("approve", sm)])
    rule = events.describe_rule(Name="boto3-smoke-checkpoints")
    check("DescribeRule keeps the pattern, enabled", (json.loads(rule["EventPattern"]), rule["State"]), (pattern, "ENABLED"))

    def event(group_name):
        return json.dumps({"id": "7bf73129-1428-4cd3-a780-95db273d1602", "version": "0", "account": ACCOUNT,
                           "time": "2026-01-05T09:00:00Z", "region": REGION, "source": "aws.autoscaling",
                           "detail-type": "EC2 Auto Scaling Instance Refresh Checkpoint Reached", "resources": [],
                           "detail": {"AutoScalingGroupName": group_name, "CheckpointPercentage": "50"}})

    check("TestEventPattern matches an event of a boto3- group",
          events.test_event_pattern(EventPattern=json.dumps(pattern), Event=event("boto3-smoke-web"))["Result"], True)
    check("TestEventPattern does not match another group",
          events.test_event_pattern(EventPattern=json.dumps(pattern), Event=event("other-web"))["Result"], False)

    # -- DynamoDB (dynalite behind the same endpoint) --
    ddb.create_table(TableName="boto3-smoke", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    check("the table is ACTIVE", ddb.describe_table(TableName="boto3-smoke")["Table"]["TableStatus"], "ACTIVE")
    for sk, v in ((1, "a"), (2, "b"), (3, "c")):
        ddb.put_item(TableName="boto3-smoke", Item={"pk": {"S": "web"}, "sk": {"N": str(sk)}, "v": {"S": v}},
                     ConditionExpression="attribute_not_exists(pk)")
    ddb.put_item(TableName="boto3-smoke", Item={"pk": {"S": "db"}, "sk": {"N": "1"}, "v": {"S": "z"}})
    check("a conditional PutItem on an existing item gives ConditionalCheckFailedException",
          error_code("conditional put", ddb.put_item, TableName="boto3-smoke",
                     Item={"pk": {"S": "web"}, "sk": {"N": "2"}, "v": {"S": "x"}},
                     ConditionExpression="attribute_not_exists(pk)"), "ConditionalCheckFailedException")
    items = ddb.query(TableName="boto3-smoke", KeyConditionExpression="pk = :p AND sk >= :s",
                      ExpressionAttributeValues={":p": {"S": "web"}, ":s": {"N": "2"}})["Items"]
    check("a Query answers the items in key order, the failed put changed nothing",
          [(i["sk"]["N"], i["v"]["S"]) for i in items], [("2", "b"), ("3", "c")])

    # -- Image Builder --
    build = admin.call("POST", "imagebuilder/builds", {"name": "boto3-smoke-recipe", "version": "1.2.3",
                                                       "amiTags": {"app": "built"}})["imageBuildVersionArn"]
    check("the admin API publishes a build with a build version ARN", build,
          f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/boto3-smoke-recipe/1.2.3/1")
    img = ib.get_image(imageBuildVersionArn=build)["image"]
    check("GetImage shows the new build PENDING", (img["state"]["status"], img["name"], img["version"]),
          ("PENDING", "boto3-smoke-recipe", "1.2.3/1"))
    admin.advance(1800)
    img = ib.get_image(imageBuildVersionArn=build)["image"]
    amis = img.get("outputResources", {}).get("amis", [])
    check("GetImage shows the build AVAILABLE with one AMI in us-east-1",
          (img["state"]["status"], [a["region"] for a in amis]), ("AVAILABLE", [REGION]))
    built = ec2.describe_images(ImageIds=[amis[0]["image"]])["Images"][0]
    check("the build's AMI is available with its tags",
          (built["State"], {t["Key"]: t["Value"] for t in built.get("Tags", [])}.get("app")), ("available", "built"))
    check("ImageBuilder GetImage of an unknown build gives ResourceNotFoundException",
          error_code("unknown build", ib.get_image,
                     imageBuildVersionArn=f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/none/1.0.0/1"),
          "ResourceNotFoundException")


def main():
    url = None
    if len(sys.argv) == 3 and sys.argv[1] == "--url":
        url = sys.argv[2]
    elif len(sys.argv) != 1:
        print("usage: boto3_smoke.py [--url URL]", file=sys.stderr)
        sys.exit(2)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(k, None)
    print(f"boto3 {boto3.__version__}, botocore {__import__('botocore').__version__}", flush=True)
    cloud = None
    try:
        if url is None:
            cloud = LocalCloud()
            url = cloud.start()
        t0 = time.monotonic()
        try:
            run(url)
        except Exception as exc:  # an unexpected error from boto3 or the admin API
            fail(f"the step after {last_check!r}: got {type(exc).__name__}: {exc}, want no error")
        print(f"boto3: {passed} passed, 0 failed ({time.monotonic() - t0:.1f}s)", flush=True)
    finally:
        if cloud is not None:
            cloud.stop()


if __name__ == "__main__":
    main()
