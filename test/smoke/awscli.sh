#!/usr/bin/env bash
# Smoke test of the local cloud with the AWS CLI: the same commands a person
# would type, against a stepped local cloud on a free loopback port. It checks
# what comes back, not just that the CLI exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v aws >/dev/null 2>&1; then
  echo "awscli.sh: installing the AWS CLI from Debian's packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null
fi
aws --version

workdir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$workdir"' EXIT
go build -o "$workdir/phoenix-localcloud" ./test/localcloud/cmd/phoenix-localcloud
"$workdir/phoenix-localcloud" -addr 127.0.0.1:0 -stepped -no-deploy >"$workdir/out" 2>"$workdir/err" &
pid=$!
for _ in $(seq 100); do
  url=$(sed -n 's/^Phoenix local cloud on \(http:[^ ]*\)$/\1/p' "$workdir/out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { echo "local cloud did not start"; cat "$workdir/err"; exit 1; }

export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
awsl() { aws --endpoint-url "$url" --output json "$@"; }
advance() { curl -sf -X POST -d "{\"seconds\": $1}" "$url/_phoenix/clock/advance" >/dev/null; }
fail() { echo "FAIL: $*"; exit 1; }
check() { # check NAME GOT WANT
  if [ "$2" != "$3" ]; then fail "$1: got '$2', want '$3'"; fi
  echo "ok   $1"
}
passed=0
pass() { passed=$((passed + 1)); }

check "sts get-caller-identity answers the local account" \
  "$(awsl sts get-caller-identity --query Account --output text)" "123456789012"; pass

ami=$(awsl ec2 register-image --name smoke-v1 --architecture x86_64 --root-device-name /dev/xvda \
  --tag-specifications 'ResourceType=image,Tags=[{Key=app,Value=web}]' --query ImageId --output text)
check "a registered image starts pending" \
  "$(awsl ec2 describe-images --image-ids "$ami" --query 'Images[0].State' --output text)" "pending"; pass
advance 600
check "an image is available after the registration delay" \
  "$(awsl ec2 describe-images --owners self --filters Name=tag:app,Values=web --query 'Images[0].State' --output text)" "available"; pass

lt=$(awsl ec2 create-launch-template --launch-template-name smoke-web \
  --launch-template-data "{\"ImageId\":\"$ami\",\"InstanceType\":\"t3.micro\"}" \
  --query LaunchTemplate.LaunchTemplateId --output text)
awsl autoscaling create-auto-scaling-group --auto-scaling-group-name smoke-web \
  --launch-template "LaunchTemplateId=$lt,Version=1" --min-size 2 --max-size 4 --desired-capacity 2 \
  --availability-zones us-east-1a us-east-1b
advance 600
check "the group launches its desired capacity" \
  "$(awsl autoscaling describe-auto-scaling-groups --auto-scaling-group-names smoke-web \
      --query 'length(AutoScalingGroups[0].Instances[?LifecycleState==`InService`])' --output text)" "2"; pass

ami2=$(awsl ec2 register-image --name smoke-v2 --architecture x86_64 --root-device-name /dev/xvda --query ImageId --output text)
advance 600
v2=$(awsl ec2 create-launch-template-version --launch-template-id "$lt" --source-version 1 \
  --launch-template-data "{\"ImageId\":\"$ami2\"}" --query LaunchTemplateVersion.VersionNumber --output text)
check "a new launch template version is numbered 2" "$v2" "2"; pass
rid=$(awsl autoscaling start-instance-refresh --auto-scaling-group-name smoke-web \
  --desired-configuration "{\"LaunchTemplate\":{\"LaunchTemplateId\":\"$lt\",\"Version\":\"2\"}}" \
  --preferences '{"MinHealthyPercentage":50,"InstanceWarmup":60,"SkipMatching":true}' \
  --query InstanceRefreshId --output text)
if err=$(awsl autoscaling start-instance-refresh --auto-scaling-group-name smoke-web 2>&1); then
  fail "a second refresh on the group was accepted"
fi
case "$err" in *InstanceRefreshInProgress*) echo "ok   a second refresh is refused with InstanceRefreshInProgress"; pass ;;
  *) fail "a second refresh: unexpected error: $err" ;; esac
advance 3600
check "the refresh succeeds" \
  "$(awsl autoscaling describe-instance-refreshes --auto-scaling-group-name smoke-web \
      --instance-refresh-ids "$rid" --query 'InstanceRefreshes[0].Status' --output text)" "Successful"; pass
check "every instance runs the new version" \
  "$(awsl autoscaling describe-auto-scaling-groups --auto-scaling-group-names smoke-web \
      --query 'AutoScalingGroups[0].Instances[].LaunchTemplate.Version' --output text | tr '\t' '\n' | sort -u)" "2"; pass

awsl dynamodb create-table --table-name smoke --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH >/dev/null
check "DynamoDB requests reach dynalite through the same endpoint" \
  "$(awsl dynamodb describe-table --table-name smoke --query Table.TableStatus --output text)" "ACTIVE"; pass

if err=$(awsl ec2 describe-images --image-ids ami-00000000000000000 2>&1); then
  fail "an unknown image id was found"
fi
case "$err" in *InvalidAMIID.NotFound*) echo "ok   an unknown image id gives InvalidAMIID.NotFound"; pass ;;
  *) fail "unknown image: unexpected error: $err" ;; esac

check "the admin API lists the refresh events" \
  "$(curl -sf "$url/_phoenix/events" | grep -c '"EC2 Auto Scaling Instance Refresh Succeeded"')" "1"; pass

echo "awscli: $passed passed, 0 failed"
