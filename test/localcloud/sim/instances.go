package sim

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// stateCodes are EC2's numeric instance state codes.
var stateCodes = map[string]int32{
	InstancePending: 0, InstanceRunning: 16, InstanceShuttingDown: 32,
	InstanceTerminated: 48, InstanceStopping: 64, InstanceStopped: 80,
}

// instanceARN returns an instance's ARN, as instance state-change events
// carry it.
func (w *World) instanceARN(region, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, w.account, id)
}

// lookupInstance finds an instance by id with EC2's errors.
func (w *World) lookupInstance(r *Region, id string) (*Instance, error) {
	if !instanceIDPattern.MatchString(id) {
		return nil, ec2Err("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
	}
	inst, ok := r.Instances[id]
	if !ok {
		return nil, ec2Err("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	return inst, nil
}

// launchPlan is a checked launch: everything needed to start instances.
type launchPlan struct {
	image        *Image
	instanceType string
	az           string
	subnetID     string
	keyName      string
	clientToken  string
	tags         map[string]string
	lt           *LaunchTemplate
	ltv          *LaunchTemplateVersion
	lcName       string
	groupName    string
}

// launchRequest is what a launch asks for before it is checked: the
// explicit parameters override the launch template's.
type launchRequest struct {
	ltID, ltName, ltVersion string
	lcName                  string
	imageID                 string
	instanceType            string
	az                      string
	subnetID                string
	keyName                 string
	tags                    map[string]string
	groupName               string
	clientToken             string
}

// planLaunch resolves and checks a launch: template version (pinned to its
// number), image (exists, visible, available), instance type (known, and
// able to run the image's architecture) and availability zone.
func (w *World) planLaunch(r *Region, req launchRequest) (*launchPlan, error) {
	p := &launchPlan{
		az: req.az, subnetID: req.subnetID, keyName: req.keyName, clientToken: req.clientToken,
		lcName: req.lcName, groupName: req.groupName, tags: map[string]string{},
	}
	imageID, instanceType := req.imageID, req.instanceType
	switch {
	case req.ltID != "" || req.ltName != "":
		lt, v, err := w.resolveLaunchTemplate(r, req.ltID, req.ltName, req.ltVersion)
		if err != nil {
			return nil, err
		}
		p.lt, p.ltv = lt, v
		d := v.Data
		if imageID == "" {
			imageID = aws.ToString(d.ImageId)
		}
		if instanceType == "" {
			instanceType = string(d.InstanceType)
		}
		if p.keyName == "" {
			p.keyName = aws.ToString(d.KeyName)
		}
		if p.az == "" && d.Placement != nil {
			p.az = aws.ToString(d.Placement.AvailabilityZone)
		}
		for _, ts := range d.TagSpecifications {
			if ts.ResourceType == ec2types.ResourceTypeInstance {
				for _, t := range ts.Tags {
					p.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
		}
	case req.lcName != "":
		lc, ok := r.LaunchConfigurations[req.lcName]
		if !ok {
			return nil, api.Validation("Launch configuration name not found - Launch configuration %s not found", req.lcName)
		}
		if imageID == "" {
			imageID = lc.ImageID
		}
		if instanceType == "" {
			instanceType = lc.InstanceType
		}
	}
	if strings.HasPrefix(imageID, "resolve:ssm:") {
		return nil, api.InvalidParameterValue("The local cloud cannot resolve the image parameter %s; give an AMI id", imageID)
	}
	img, err := w.launchableImage(r, imageID)
	if err != nil {
		return nil, err
	}
	p.image = img
	if instanceType == "" {
		instanceType = defaultInstanceType
	}
	spec, ok := instanceTypes[instanceType]
	if !ok {
		return nil, api.InvalidParameterValue("Invalid value '%s' for InstanceType.", instanceType)
	}
	if !spec.supportsArch(img.Architecture) {
		return nil, api.InvalidParameterValue("The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. "+
			"Specify an instance type and an AMI that have matching architectures, and try again. "+
			"You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.",
			strings.Join(spec.archs, ","), img.Architecture)
	}
	p.instanceType = instanceType
	if p.az != "" && !validZone(r.Name, p.az) {
		return nil, api.InvalidParameterValue("Invalid availability zone: [%s]", p.az)
	}
	for k, v := range req.tags {
		p.tags[k] = v
	}
	return p, nil
}

// launchFault asks the fault injector whether this launch fails, returning
// EC2's error for it.
func (w *World) launchFault(r *Region, id string, p *launchPlan, az string) error {
	if _, hit := w.Faults.Model(faults.InsufficientCapacity, id, p.instanceType, az, p.groupName); hit {
		others := []string{}
		for _, z := range zoneNames(r.Name) {
			if z != az {
				others = append(others, z)
			}
		}
		return &api.Error{
			Code: "InsufficientInstanceCapacity",
			Message: fmt.Sprintf("We currently do not have sufficient %s capacity in the Availability Zone you requested (%s). "+
				"Our system will be working on provisioning additional capacity. You can currently get %s capacity by not specifying "+
				"an Availability Zone in your request or choosing %s.", p.instanceType, az, p.instanceType, strings.Join(others, ", ")),
			Status: http.StatusInternalServerError,
			Server: true,
		}
	}
	if rule, hit := w.Faults.Model(faults.LaunchFailure, id, p.instanceType, az, p.groupName); hit {
		e := &api.Error{Code: "InternalError", Message: "An internal error has occurred", Status: http.StatusInternalServerError, Server: true}
		if rule.Code != "" {
			e.Code = rule.Code
		}
		if rule.Message != "" {
			e.Message = rule.Message
		}
		if rule.Status != 0 {
			e.Status = rule.Status
			e.Server = rule.Status >= 500
		}
		return e
	}
	return nil
}

// admitLaunch picks the zone of one more instance of a plan and asks the
// fault injector whether it can launch; it creates nothing, so that a
// launch short of MinCount leaves no trace.
func (w *World) admitLaunch(r *Region, p *launchPlan, n int) (id, az string, err error) {
	az = p.az
	if az == "" {
		// Spread launches that name no zone over the zones, deterministically.
		zones := zoneNames(r.Name)
		az = zones[(int(w.ec2State().seq)+n)%len(zones)]
	}
	id = w.hexID("i")
	if err := w.launchFault(r, id, p, az); err != nil {
		return "", "", err
	}
	return id, az, nil
}

// createInstance records one admitted instance in pending state and
// schedules its boot.
func (w *World) createInstance(r *Region, p *launchPlan, id, az, reservationID string, index int32) *Instance {
	seq := w.nextSeq()
	inst := &Instance{
		ID:                      id,
		ImageID:                 p.image.ID,
		InstanceType:            p.instanceType,
		State:                   InstancePending,
		LaunchTime:              w.now(),
		AZ:                      az,
		SubnetID:                p.subnetID,
		Tags:                    map[string]string{},
		LaunchConfigurationName: p.lcName,
		GroupName:               p.groupName,
		Architecture:            p.image.Architecture,
		ReservationID:           reservationID,
		AmiLaunchIndex:          index,
		PrivateIP:               privateIP(r.Name, az, seq),
		KeyName:                 p.keyName,
		ClientToken:             p.clientToken,
		Behavior:                w.behaviorOf(p.image),
		seq:                     seq,
	}
	if p.lt != nil {
		inst.LaunchTemplateID = p.lt.ID
		inst.LaunchTemplateName = p.lt.Name
		inst.LaunchTemplateVersion = strconv.FormatInt(p.ltv.Number, 10)
		// EC2 tags an instance launched from a launch template with the
		// template and the numbered version it was launched from.
		inst.Tags["aws:ec2launchtemplate:id"] = p.lt.ID
		inst.Tags["aws:ec2launchtemplate:version"] = inst.LaunchTemplateVersion
	}
	for k, v := range p.tags {
		inst.Tags[k] = v
	}
	r.Instances[id] = inst
	// Every launch, RunInstances' or Auto Scaling's, counts for the image's
	// lastLaunchedTime.
	w.recordLaunch(p.image)
	pending, _ := w.cfg().bootTimes(inst.Behavior)
	inst.timer = w.schedule(pending, "ec2 boot "+id, func() { w.bootDone(r, inst) })
	w.instanceChanged(r, inst)
	return inst
}

// privateIP gives an instance a stable private address in its zone's /19.
func privateIP(region, az string, seq uint64) string {
	zi := 0
	for i, z := range zoneNames(region) {
		if z == az {
			zi = i
		}
	}
	return fmt.Sprintf("10.0.%d.%d", zi*32+int(seq/250)%32, seq%250+4)
}

// bootDone ends the pending state: fail-launch instances terminate with
// EC2's launch-failure reason, the others run.
func (w *World) bootDone(r *Region, inst *Instance) {
	if inst.State != InstancePending {
		return
	}
	inst.timer = nil
	if inst.Behavior.Kind == BehaviorFailLaunch {
		inst.State = InstanceTerminated
		inst.TerminatedAt = w.now()
		inst.StateReasonCode = "Client.InternalError"
		inst.StateReasonMessage = "Client.InternalError: Client error on launch"
		w.scheduleVanish(r, inst)
		w.instanceChanged(r, inst)
		return
	}
	_, appStart := w.cfg().bootTimes(inst.Behavior)
	inst.State = InstanceRunning
	inst.RunningAt = w.now()
	inst.ReadyAt = inst.RunningAt.Add(appStart)
	w.instanceChanged(r, inst)
}

// terminateInstance moves inst to shutting-down and, after
// EC2Config.ShutdownTime, to terminated. Terminating an instance that is
// already shutting down or terminated changes nothing.
func (w *World) terminateInstance(r *Region, inst *Instance) {
	if inst.State == InstanceShuttingDown || inst.State == InstanceTerminated {
		return
	}
	if inst.timer != nil {
		inst.timer.Stop()
	}
	inst.State = InstanceShuttingDown
	inst.StateReasonCode = "Client.UserInitiatedShutdown"
	inst.StateReasonMessage = "Client.UserInitiatedShutdown: User initiated shutdown"
	inst.StateTransitionReason = fmt.Sprintf("User initiated (%s GMT)", w.now().UTC().Format("2006-01-02 15:04:05"))
	inst.timer = w.schedule(w.cfg().ShutdownTime, "ec2 terminated "+inst.ID, func() {
		if inst.State != InstanceShuttingDown {
			return
		}
		inst.timer = nil
		inst.State = InstanceTerminated
		inst.TerminatedAt = w.now()
		w.scheduleVanish(r, inst)
		w.instanceChanged(r, inst)
	})
	w.instanceChanged(r, inst)
}

// scheduleVanish removes a terminated instance once it has been visible for
// EC2Config.TerminatedVisible, together with its target registrations.
func (w *World) scheduleVanish(r *Region, inst *Instance) {
	w.schedule(w.cfg().TerminatedVisible, "ec2 forget "+inst.ID, func() {
		if r.Instances[inst.ID] != inst {
			return
		}
		delete(r.Instances, inst.ID)
		for _, tg := range r.TargetGroups {
			if t, ok := tg.Targets[inst.ID]; ok {
				t.stopTimers()
				delete(tg.Targets, inst.ID)
			}
		}
	})
}

// instanceChanged runs after every instance state change: it updates the
// instance's targets, emits EC2's state-change event, then tells the Auto
// Scaling side (instance first, then each target whose health changed).
func (w *World) instanceChanged(r *Region, inst *Instance) {
	changed := w.targetsFollowInstance(r, inst)
	w.emit(r.Name, "aws.ec2", "EC2 Instance State-change Notification", []string{w.instanceARN(r.Name, inst.ID)}, map[string]string{
		"instance-id": inst.ID,
		"state":       inst.State,
	})
	w.onInstanceStateChange(r, inst)
	for _, c := range changed {
		w.onTargetHealthChange(r, c.tg, c.t)
	}
}

// instanceStatusOK reports whether EC2 status checks pass for inst, which is
// what an EC2-type Auto Scaling health check looks at: only a running
// instance passes (the model has no impaired instances).
func (w *World) instanceStatusOK(r *Region, inst *Instance) bool {
	return inst != nil && inst.State == InstanceRunning
}

// RunInstances launches between MinCount and MaxCount instances from an
// image or a launch template version (parameters in the request override
// the template's). If fewer than MinCount can be launched (capacity or
// launch faults), none is and the fault's error is returned.
func (e *EC2) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, _ ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if in.MinCount == nil || in.MaxCount == nil {
		return nil, ec2Err("MissingParameter", "The request must contain the parameters MinCount and MaxCount")
	}
	minC, maxC := *in.MinCount, *in.MaxCount
	if minC < 1 {
		return nil, api.InvalidParameterValue("Invalid value '%d' for MinCount. Must be at least 1.", minC)
	}
	if maxC < minC {
		return nil, api.InvalidParameterValue("Invalid value '%d' for MaxCount. It must be at least MinCount (%d).", maxC, minC)
	}
	tok := aws.ToString(in.ClientToken)
	if tok != "" {
		if out := w.reservationByToken(r, tok); out != nil {
			return out, nil
		}
	}
	req := launchRequest{
		imageID:      aws.ToString(in.ImageId),
		instanceType: string(in.InstanceType),
		subnetID:     aws.ToString(in.SubnetId),
		keyName:      aws.ToString(in.KeyName),
		clientToken:  tok,
	}
	if in.Placement != nil {
		req.az = aws.ToString(in.Placement.AvailabilityZone)
	}
	if lt := in.LaunchTemplate; lt != nil {
		req.ltID, req.ltName, req.ltVersion = aws.ToString(lt.LaunchTemplateId), aws.ToString(lt.LaunchTemplateName), aws.ToString(lt.Version)
		if req.ltID == "" && req.ltName == "" {
			return nil, ec2Err("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId")
		}
	}
	tags, err := tagsFor(in.TagSpecifications, ec2types.ResourceTypeInstance, ec2types.ResourceTypeVolume, ec2types.ResourceTypeNetworkInterface)
	if err != nil {
		return nil, err
	}
	req.tags = tags
	plan, err := w.planLaunch(r, req)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	type admitted struct{ id, az string }
	var ok []admitted
	var lastErr error
	for i := 0; i < int(maxC); i++ {
		id, az, err := w.admitLaunch(r, plan, i)
		if err != nil {
			lastErr = err
			break
		}
		ok = append(ok, admitted{id, az})
	}
	if int32(len(ok)) < minC {
		// EC2 launches nothing when it cannot launch MinCount instances.
		return nil, lastErr
	}
	resID := w.hexID("r")
	launched := make([]*Instance, len(ok))
	for i, a := range ok {
		launched[i] = w.createInstance(r, plan, a.id, a.az, resID, int32(i))
	}
	return w.renderReservation(r, resID, launched), nil
}

// reservationByToken returns the reservation an earlier RunInstances with
// the same ClientToken made, for idempotent retries.
func (w *World) reservationByToken(r *Region, tok string) *ec2.RunInstancesOutput {
	var found []*Instance
	for _, inst := range r.Instances {
		if inst.ClientToken == tok {
			found = append(found, inst)
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].seq < found[j].seq })
	return w.renderReservation(r, found[0].ReservationID, found)
}

// renderReservation renders RunInstances' answer.
func (w *World) renderReservation(r *Region, resID string, insts []*Instance) *ec2.RunInstancesOutput {
	out := &ec2.RunInstancesOutput{
		ReservationId: aws.String(resID),
		OwnerId:       aws.String(w.account),
		Groups:        []ec2types.GroupIdentifier{},
	}
	for _, inst := range insts {
		out.Instances = append(out.Instances, w.renderInstance(r, inst))
	}
	return out
}

// renderInstance renders inst as DescribeInstances does.
func (w *World) renderInstance(r *Region, inst *Instance) ec2types.Instance {
	out := ec2types.Instance{
		InstanceId:     aws.String(inst.ID),
		ImageId:        aws.String(inst.ImageID),
		InstanceType:   ec2types.InstanceType(inst.InstanceType),
		Architecture:   ec2types.ArchitectureValues(inst.Architecture),
		AmiLaunchIndex: aws.Int32(inst.AmiLaunchIndex),
		LaunchTime:     aws.Time(inst.LaunchTime),
		State: &ec2types.InstanceState{
			Code: aws.Int32(stateCodes[inst.State]),
			Name: ec2types.InstanceStateName(inst.State),
		},
		Placement: &ec2types.Placement{
			AvailabilityZone: aws.String(inst.AZ),
			Tenancy:          ec2types.TenancyDefault,
		},
		PrivateIpAddress:      aws.String(inst.PrivateIP),
		PrivateDnsName:        aws.String(privateDNS(r.Name, inst.PrivateIP)),
		StateTransitionReason: aws.String(inst.StateTransitionReason),
		Hypervisor:            ec2types.HypervisorTypeXen,
		VirtualizationType:    ec2types.VirtualizationTypeHvm,
		RootDeviceType:        ec2types.DeviceTypeEbs,
		RootDeviceName:        aws.String("/dev/xvda"),
		EbsOptimized:          aws.Bool(false),
		EnaSupport:            aws.Bool(true),
		SourceDestCheck:       aws.Bool(true),
		Monitoring:            &ec2types.Monitoring{State: ec2types.MonitoringStateDisabled},
		PlatformDetails:       aws.String("Linux/UNIX"),
		UsageOperation:        aws.String("RunInstances"),
		SecurityGroups:        []ec2types.GroupIdentifier{},
		Tags:                  toEC2Tags(inst.Tags),
	}
	if inst.SubnetID != "" {
		out.SubnetId = aws.String(inst.SubnetID)
	}
	if inst.KeyName != "" {
		out.KeyName = aws.String(inst.KeyName)
	}
	if inst.ClientToken != "" {
		out.ClientToken = aws.String(inst.ClientToken)
	}
	if inst.StateReasonCode != "" {
		out.StateReason = &ec2types.StateReason{Code: aws.String(inst.StateReasonCode), Message: aws.String(inst.StateReasonMessage)}
	}
	if inst.State == InstanceTerminated {
		// Terminated instances have no address any more.
		out.PrivateIpAddress = nil
		out.PrivateDnsName = aws.String("")
	}
	return out
}

// privateDNS returns EC2's internal host name for an address.
func privateDNS(region, ip string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// DescribeInstances describes instances, grouped in reservations, by id or
// by filter: instance-id, instance-state-name, instance-state-code,
// image-id, instance-type, availability-zone, launch-time, reservation-id,
// subnet-id, architecture, private-ip-address, key-name, tag:KEY, tag-key
// (with * and ? wildcards). MaxResults (5-1000) and NextToken page through
// instances; MaxResults cannot be combined with InstanceIds.
func (e *EC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	size, after, err := describePage("instancesSet", len(in.InstanceIds), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if err := checkFilterNames(in.Filters, "instance-id", "instance-state-name", "instance-state-code", "image-id", "instance-type",
		"availability-zone", "launch-time", "reservation-id", "subnet-id", "architecture", "private-ip-address", "key-name"); err != nil {
		return nil, err
	}
	var list []*Instance
	if len(in.InstanceIds) > 0 {
		var missing []string
		for _, id := range in.InstanceIds {
			if !instanceIDPattern.MatchString(id) {
				return nil, ec2Err("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
			}
			if inst, ok := r.Instances[id]; ok {
				list = append(list, inst)
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) == 1 {
			return nil, ec2Err("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
		}
		if len(missing) > 1 {
			return nil, ec2Err("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", idList(missing))
		}
	} else {
		for _, inst := range r.Instances {
			list = append(list, inst)
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	out := &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{}}
	count := 0
	var last uint64
	for _, inst := range list {
		if inst.seq <= after {
			continue
		}
		ok, err := matchFilters(in.Filters, inst.Tags, func(name string) ([]string, bool) {
			switch name {
			case "instance-id":
				return []string{inst.ID}, true
			case "instance-state-name":
				return []string{inst.State}, true
			case "instance-state-code":
				return []string{strconv.Itoa(int(stateCodes[inst.State]))}, true
			case "image-id":
				return []string{inst.ImageID}, true
			case "instance-type":
				return []string{inst.InstanceType}, true
			case "availability-zone":
				return []string{inst.AZ}, true
			case "launch-time":
				return []string{ec2Time(inst.LaunchTime)}, true
			case "reservation-id":
				return []string{inst.ReservationID}, true
			case "subnet-id":
				return []string{inst.SubnetID}, true
			case "architecture":
				return []string{inst.Architecture}, true
			case "private-ip-address":
				return []string{inst.PrivateIP}, true
			case "key-name":
				return []string{inst.KeyName}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if size > 0 && count == size {
			out.NextToken = pageToken(last)
			break
		}
		count++
		last = inst.seq
		n := len(out.Reservations)
		if n == 0 || aws.ToString(out.Reservations[n-1].ReservationId) != inst.ReservationID {
			out.Reservations = append(out.Reservations, ec2types.Reservation{
				ReservationId: aws.String(inst.ReservationID),
				OwnerId:       aws.String(w.account),
				Groups:        []ec2types.GroupIdentifier{},
			})
			n++
		}
		out.Reservations[n-1].Instances = append(out.Reservations[n-1].Instances, w.renderInstance(r, inst))
	}
	return out, nil
}

// TerminateInstances terminates instances: each goes shutting-down, then
// terminated after EC2Config.ShutdownTime, and stays visible for
// EC2Config.TerminatedVisible. If any id is unknown, nothing is terminated.
func (e *EC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, _ ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.InstanceIds) == 0 {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter InstanceId")
	}
	var insts []*Instance
	var missing []string
	for _, id := range in.InstanceIds {
		if !instanceIDPattern.MatchString(id) {
			return nil, ec2Err("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
		if inst, ok := r.Instances[id]; ok {
			insts = append(insts, inst)
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 1 {
		return nil, ec2Err("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	}
	if len(missing) > 1 {
		return nil, ec2Err("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", idList(missing))
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out := &ec2.TerminateInstancesOutput{}
	for _, inst := range insts {
		prev := inst.State
		w.terminateInstance(r, inst)
		out.TerminatingInstances = append(out.TerminatingInstances, ec2types.InstanceStateChange{
			InstanceId:    aws.String(inst.ID),
			PreviousState: &ec2types.InstanceState{Code: aws.Int32(stateCodes[prev]), Name: ec2types.InstanceStateName(prev)},
			CurrentState:  &ec2types.InstanceState{Code: aws.Int32(stateCodes[inst.State]), Name: ec2types.InstanceStateName(inst.State)},
		})
	}
	return out, nil
}
