#!/usr/bin/env python3
"""Holds template.yaml to AWS's own tooling, as `sam validate --lint` and
`sam package` would: cfn-lint (with its IAM action data), then the SAM
transform with the real translator, writing the CloudFormation that AWS
would deploy to an output file for inspection.

No SAM CLI can be installed here, so this does the two things it would do
with the same libraries: cfn-lint's own checks (its settings, including
the allow-list, live in .cfnlintrc.yaml at the repository's root), and
samtranslator's transform of the template after `sam package` has replaced
every local CodeUri and DefinitionUri with an S3 location.

It never skips: a missing tool fails the run and names the package.

Usage: aws_lint.py TEMPLATE OUTPUT
"""
import copy
import json
import os
import subprocess
import sys

missing = []
try:
    import cfnlint  # noqa: F401  (cfn-lint's package)
except ImportError:
    missing.append("cfn-lint")
try:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse
except ImportError:
    missing.append("aws-sam-translator")
if missing:
    sys.exit("make lint needs the python3 packages %s (FIELD-NOTES section 1: the machine image has them); "
             "install them for %s" % (" and ".join(missing), sys.executable))

# A region and an account as `sam package` would run with; the transform
# needs one to write ARNs and never calls AWS with it.
REGION = "us-east-1"
ARTIFACTS = "s3://phoenix-lint-artifacts"


class NoManagedPolicies:
    """The SAM CLI asks IAM for the ARN of each managed policy a template
    names in Policies; Phoenix's functions name none (inline documents and
    SAM policy templates only), so there is nothing to look up. A name that
    slips in fails the transform loudly instead of being looked up."""

    def load(self):
        return {}


def packaged(template):
    """Returns the template as `sam package` leaves it: every local CodeUri
    and DefinitionUri replaced by the S3 location it would upload to."""
    out = copy.deepcopy(template)
    for name, res in out.get("Resources", {}).items():
        props = res.get("Properties") or {}
        for key in ("CodeUri", "DefinitionUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = "%s/%s-%s.zip" % (ARTIFACTS, name, key)
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    template, output = sys.argv[1], sys.argv[2]

    # cfn-lint as its CLI runs, from this interpreter; its exit code is
    # non-zero for any error or warning (and informational finding: the
    # config includes them) that the allow-list does not name.
    lint = subprocess.run([sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
                           "--format", "parseable", template])
    if lint.returncode != 0:
        sys.exit("cfn-lint found problems in %s (above); fix them, or allow one in .cfnlintrc.yaml with the reason" % template)
    print("cfn-lint: %s passes" % template)

    with open(template) as f:
        doc = yaml_parse(f.read())
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    try:
        cfn = transform(packaged(doc), {}, NoManagedPolicies())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print("SAM transform: " + cause.message, file=sys.stderr)
        sys.exit("the SAM translator refuses %s" % template)
    os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
    with open(output, "w") as f:
        json.dump(cfn, f, indent=2, sort_keys=True)
        f.write("\n")
    print("SAM transform: %d CloudFormation resources written to %s" % (len(cfn.get("Resources", {})), output))


if __name__ == "__main__":
    main()
