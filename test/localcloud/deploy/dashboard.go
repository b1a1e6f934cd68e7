package deploy

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// dashboard creates an AWS::CloudWatch::Dashboard with PutDashboard. As in
// CloudFormation, DashboardBody is a string (templates build it with
// Fn::Sub or Fn::Join), a dashboard without DashboardName gets a generated
// name, Ref gives the name, and Fn::GetAtt has no attribute to read. A body
// PutDashboard refuses fails the deployment with CloudWatch's message, which
// names the path of each problem in the body.
func (d *deployer) dashboard(r Resource, p map[string]any) (*Deployed, error) {
	raw, ok := p["DashboardBody"]
	if !ok || raw == nil {
		return nil, fmt.Errorf("property DashboardBody is required")
	}
	body, ok := raw.(string)
	if !ok {
		return nil, fmt.Errorf("DashboardBody must be a string of JSON, not a %T: CloudFormation does not serialize a mapping here, so build the string with Fn::Sub or Fn::Join", raw)
	}
	name := str(p, "DashboardName")
	if name == "" {
		name = d.physicalName(r.Name, 255)
	}
	if _, err := d.cl.CloudWatch.PutDashboard(d.ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(name), DashboardBody: aws.String(body)}); err != nil {
		return nil, fmt.Errorf("PutDashboard %s: %w", name, err)
	}
	return &Deployed{PhysicalID: name, Attrs: map[string]string{}}, nil
}
