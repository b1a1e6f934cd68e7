package sim

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Image states, as EC2 names them.
const (
	ImagePending      = "pending"
	ImageAvailable    = "available"
	ImageFailed       = "failed"
	ImageDeregistered = "deregistered"
)

// amiNamePattern is EC2's rule for AMI names: 3-128 characters of letters,
// digits, ( ) [ ] space . / - ' @ _.
var amiNamePattern = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./\-'@_]{3,128}$`)

// imageARN returns the ARN EC2 gives an image (images have no account in
// their ARN).
func imageARN(region, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s::image/%s", region, id)
}

// ImageSpec describes an image made from Go with AddImage.
type ImageSpec struct {
	// Name is the AMI name (3-128 characters).
	Name string
	// OwnerID is the owning account; the World's account if empty. An image
	// owned by another account is made public so that the World's account
	// can see and launch it, as a shared or marketplace image would be.
	OwnerID string
	// Architecture is x86_64 if empty.
	Architecture string
	Description  string
	Tags         map[string]string
	// Available skips the pending state: the image is available at once.
	Available bool
	// DeprecateAt, if set, is the image's deprecation time (rounded to the
	// minute, as EnableImageDeprecation rounds it).
	DeprecateAt time.Time
	// RootVolumeSize is the size in GiB of the root snapshot behind the
	// image; 8 if zero.
	RootVolumeSize int32
}

// AddImage makes an image without an API call, typically one owned by
// another account for provenance tests. It follows the same lifecycle as a
// registered image unless spec.Available is set; state-change events are
// emitted only for images of the World's own account, since EventBridge
// delivers them to the owner's bus.
func (w *World) AddImage(region string, spec ImageSpec) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.region(region)
	owner := spec.OwnerID
	if owner == "" {
		owner = w.account
	}
	arch := spec.Architecture
	if arch == "" {
		arch = "x86_64"
	}
	if err := w.checkNewImage(r, owner, spec.Name, arch); err != nil {
		return "", fmt.Errorf("add image %q: %w", spec.Name, err)
	}
	img := w.newImage(r, owner, spec.Name, arch, "")
	img.Description = spec.Description
	img.Public = owner != w.account
	for k, v := range spec.Tags {
		img.Tags[k] = v
	}
	size := spec.RootVolumeSize
	if size <= 0 {
		size = defaultVolumeSize
	}
	img.BlockDevices = []*BlockDevice{w.rootBlockDevice(img, size, nil)}
	if !spec.DeprecateAt.IsZero() {
		img.DeprecationTime = spec.DeprecateAt.UTC().Round(time.Minute)
	}
	if spec.Available {
		w.setImageState(r, img, ImageAvailable, "")
	} else {
		w.scheduleImageAvailable(r, img)
	}
	return img.ID, nil
}

// FailImage moves a pending image to failed with message as its state
// reason, the way a failed CreateImage or RegisterImage ends.
func (w *World) FailImage(region, imageID, message string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.region(region)
	img, ok := r.Images[imageID]
	if !ok {
		return fmt.Errorf("fail image %s: no such image in %s", imageID, region)
	}
	if img.State != ImagePending {
		return fmt.Errorf("fail image %s: image is %s, not pending", imageID, img.State)
	}
	w.setImageState(r, img, ImageFailed, message)
	return nil
}

// checkNewImage applies EC2's rules for a new image's name and architecture.
func (w *World) checkNewImage(r *Region, owner, name, arch string) error {
	if name == "" {
		return ec2Err("MissingParameter", "The request must contain the parameter name")
	}
	if !amiNamePattern.MatchString(name) {
		return ec2Err("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
	}
	switch arch {
	case "i386", "x86_64", "arm64":
	default:
		return api.InvalidParameterValue("Value (%s) for parameter architecture is invalid. Valid values are i386, x86_64 and arm64.", arch)
	}
	for _, other := range r.Images {
		if other.OwnerID == owner && other.Name == name && other.State != ImageDeregistered {
			return ec2Err("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, other.ID)
		}
	}
	return nil
}

// newImage records a pending image.
func (w *World) newImage(r *Region, owner, name, arch, requestID string) *Image {
	img := &Image{
		ID:                 w.hexID("ami"),
		Name:               name,
		OwnerID:            owner,
		Architecture:       arch,
		State:              ImagePending,
		CreationDate:       w.now(),
		Tags:               map[string]string{},
		RootDeviceName:     "/dev/xvda",
		VirtualizationType: "hvm",
		requestID:          requestID,
		seq:                w.nextSeq(),
	}
	if requestID == "" {
		img.requestID = w.uuid()
	}
	r.Images[img.ID] = img
	return img
}

// scheduleImageAvailable makes img available after the configured delay,
// unless it has been deregistered or failed in the meantime.
func (w *World) scheduleImageAvailable(r *Region, img *Image) {
	w.schedule(w.cfg().ImageAvailableDelay, "ec2 image available "+img.ID, func() {
		if img.State == ImagePending {
			w.setImageState(r, img, ImageAvailable, "")
		}
	})
}

// setImageState changes img's state and emits EC2's "EC2 AMI State Change"
// event (for images of the World's own account).
func (w *World) setImageState(r *Region, img *Image, state, message string) {
	img.State = state
	img.StateMessage = message
	snapshotsFollowImage(img)
	if img.OwnerID != w.account {
		return
	}
	w.emit(r.Name, "aws.ec2", "EC2 AMI State Change", []string{imageARN(r.Name, img.ID)}, struct {
		RequestID    string `json:"RequestId"`
		ImageID      string `json:"ImageId"`
		State        string `json:"State"`
		ErrorMessage string `json:"ErrorMessage"`
	}{img.requestID, img.ID, state, message})
}

// RegisterImage registers an AMI. It is pending for
// EC2Config.ImageAvailableDelay, then available. As EC2 documents, the
// architecture defaults to i386 and the virtualization type to paravirtual
// when not given. BlockDeviceMappings name the image's volumes: an EBS
// mapping may name one of the caller's snapshots; the root device's mapping
// without one, or no root mapping at all, gets a new root snapshot (VolumeSize
// GiB, 8 by default), standing for the snapshot the caller would have taken
// before registering. Snapshots are pending with the image and completed
// when it becomes available; TagSpecifications of type snapshot tag them.
func (e *EC2) RegisterImage(ctx context.Context, in *ec2.RegisterImageInput, _ ...func(*ec2.Options)) (*ec2.RegisterImageOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	arch := string(in.Architecture)
	if arch == "" {
		arch = "i386"
	}
	if err := w.checkNewImage(r, w.account, aws.ToString(in.Name), arch); err != nil {
		return nil, err
	}
	virt := aws.ToString(in.VirtualizationType)
	switch virt {
	case "":
		virt = "paravirtual"
	case "hvm", "paravirtual":
	default:
		return nil, api.InvalidParameterValue("Value (%s) for parameter virtualizationType is invalid. Valid values are hvm and paravirtual.", virt)
	}
	tags, err := tagsFor(in.TagSpecifications, ec2types.ResourceTypeImage, ec2types.ResourceTypeSnapshot)
	if err != nil {
		return nil, err
	}
	snapTags, err := tagsFor(in.TagSpecifications, ec2types.ResourceTypeSnapshot, ec2types.ResourceTypeImage)
	if err != nil {
		return nil, err
	}
	// The mappings are checked on a scratch image first, so that a refused
	// request leaves nothing behind.
	rootName := aws.ToString(in.RootDeviceName)
	if rootName == "" {
		rootName = "/dev/xvda"
	}
	if _, err := w.blockDevicesFromRequest(r, &Image{ID: "ami-check", RootDeviceName: rootName}, in.BlockDeviceMappings, nil); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	img := w.newImage(r, w.account, aws.ToString(in.Name), arch, api.RequestFrom(ctx).RequestID)
	img.Description = aws.ToString(in.Description)
	img.VirtualizationType = virt
	img.RootDeviceName = rootName
	img.Tags = tags
	if img.BlockDevices, err = w.blockDevicesFromRequest(r, img, in.BlockDeviceMappings, snapTags); err != nil {
		return nil, err
	}
	w.scheduleImageAvailable(r, img)
	return &ec2.RegisterImageOutput{ImageId: aws.String(img.ID)}, nil
}

// CreateImage makes an AMI from a running or stopped instance. The image
// has the instance's architecture and is pending for
// EC2Config.ImageAvailableDelay. Tags are not copied from the instance or
// its image (EC2 does not copy them), so the new image's behaviour is
// healthy unless TagSpecifications say otherwise. Each EBS volume of the
// instance (its image's mappings, or an 8 GiB root volume) is snapshotted,
// "Created by CreateImage(i-...) for ami-..." as EC2 describes them, and
// TagSpecifications of type snapshot tag every snapshot.
func (e *EC2) CreateImage(ctx context.Context, in *ec2.CreateImageInput, _ ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	id := aws.ToString(in.InstanceId)
	if id == "" {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter instanceId")
	}
	inst, err := w.lookupInstance(r, id)
	if err != nil {
		return nil, err
	}
	if inst.State != InstanceRunning && inst.State != InstanceStopped {
		return nil, ec2Err("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be imaged.", id)
	}
	if err := w.checkNewImage(r, w.account, aws.ToString(in.Name), inst.Architecture); err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, ec2types.ResourceTypeImage, ec2types.ResourceTypeSnapshot)
	if err != nil {
		return nil, err
	}
	snapTags, err := tagsFor(in.TagSpecifications, ec2types.ResourceTypeSnapshot, ec2types.ResourceTypeImage)
	if err != nil {
		return nil, err
	}
	if _, err := w.blockDevicesOfInstance(r, &Image{ID: "ami-check", RootDeviceName: "/dev/xvda"}, inst, in.BlockDeviceMappings, nil); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	img := w.newImage(r, w.account, aws.ToString(in.Name), inst.Architecture, api.RequestFrom(ctx).RequestID)
	img.Description = aws.ToString(in.Description)
	img.SourceInstanceID = id
	img.Tags = tags
	if img.BlockDevices, err = w.blockDevicesOfInstance(r, img, inst, in.BlockDeviceMappings, snapTags); err != nil {
		return nil, err
	}
	w.scheduleImageAvailable(r, img)
	return &ec2.CreateImageOutput{ImageId: aws.String(img.ID)}, nil
}

// imageVisible reports whether the caller's account can see img at all.
func (w *World) imageVisible(img *Image) bool {
	return img.OwnerID == w.account || img.Public
}

// imageListed reports whether a deregistered image is still within the
// short interval during which DescribeImages lists it.
func (w *World) imageListed(img *Image) bool {
	if img.State != ImageDeregistered {
		return true
	}
	return w.now().Before(img.DeregisteredAt.Add(w.cfg().DeregisteredImageVisible))
}

// imageInUse reports whether an instance that is not terminated was
// launched from the image.
func imageInUse(r *Region, id string) bool {
	for _, inst := range r.Instances {
		if inst.ImageID == id && inst.State != InstanceTerminated {
			return true
		}
	}
	return false
}

// DescribeImages describes the images the caller can see: its own and
// public ones. Filters: image-id, name, state, owner-id, architecture,
// description, is-public, virtualization-type, root-device-name,
// creation-date, tag:KEY and tag-key, with * and ? wildcards. As EC2
// documents, a deregistered image is listed for a short interval, then asking
// for it by id returns nothing while instances still use it, and
// InvalidAMIID.NotFound once none does. A disabled image is left out unless
// IncludeDisabled is set; an image of another account whose deprecation time
// has passed is left out of listings unless IncludeDeprecated is set or its
// id is given (the owner always sees its deprecated images). Public follows
// the launch permission of group "all" (ModifyImageAttribute);
// ExecutableUsers is refused as not modelled.
func (e *EC2) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.ExecutableUsers) > 0 {
		// The model has one caller account and no image of another account
		// shared with it, so the view ExecutableUsers selects is not modelled.
		return nil, api.InvalidParameterValue("The local cloud does not model the parameter ExecutableUsers of DescribeImages")
	}
	size, after, err := describePage("imageIdsSet", len(in.ImageIds), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if err := checkFilterNames(in.Filters, "image-id", "name", "state", "owner-id", "architecture", "description",
		"is-public", "virtualization-type", "root-device-name", "root-device-type", "image-type", "creation-date"); err != nil {
		return nil, err
	}
	var candidates []*Image
	if len(in.ImageIds) > 0 {
		var missing []string
		for _, id := range in.ImageIds {
			if !amiIDPattern.MatchString(id) {
				return nil, ec2Err("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
			}
			img, ok := r.Images[id]
			switch {
			case !ok || !w.imageVisible(img):
				missing = append(missing, id)
			case img.State == ImageDisabled && !aws.ToBool(in.IncludeDisabled):
			case w.imageListed(img):
				candidates = append(candidates, img)
			case !imageInUse(r, id):
				missing = append(missing, id)
			}
		}
		if len(missing) == 1 {
			return nil, ec2Err("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", missing[0])
		}
		if len(missing) > 1 {
			return nil, ec2Err("InvalidAMIID.NotFound", "The image ids '[%s]' do not exist", idList(missing))
		}
	} else {
		for _, img := range r.Images {
			switch {
			case !w.imageVisible(img) || !w.imageListed(img):
			case img.State == ImageDisabled && !aws.ToBool(in.IncludeDisabled):
			case img.OwnerID != w.account && w.imageDeprecated(img) && !aws.ToBool(in.IncludeDeprecated):
			default:
				candidates = append(candidates, img)
			}
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].seq < candidates[j].seq })
	out := &ec2.DescribeImagesOutput{Images: []ec2types.Image{}}
	var last uint64
	for _, img := range candidates {
		if img.seq <= after {
			continue
		}
		if len(in.Owners) > 0 && !w.ownerMatches(in.Owners, img) {
			continue
		}
		ok, err := matchFilters(in.Filters, img.Tags, func(name string) ([]string, bool) {
			switch name {
			case "image-id":
				return []string{img.ID}, true
			case "name":
				return []string{img.Name}, true
			case "state":
				return []string{img.State}, true
			case "owner-id":
				return []string{img.OwnerID}, true
			case "architecture":
				return []string{img.Architecture}, true
			case "description":
				return []string{img.Description}, true
			case "is-public":
				return []string{fmt.Sprint(img.Public)}, true
			case "virtualization-type":
				return []string{img.VirtualizationType}, true
			case "root-device-name":
				return []string{img.RootDeviceName}, true
			case "root-device-type":
				return []string{"ebs"}, true
			case "image-type":
				return []string{"machine"}, true
			case "creation-date":
				return []string{ec2Time(img.CreationDate)}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if size > 0 && len(out.Images) == size {
			out.NextToken = pageToken(last)
			break
		}
		out.Images = append(out.Images, w.renderImage(img))
		last = img.seq
	}
	return out, nil
}

// ownerMatches applies DescribeImages' Owners: "self", account ids, and the
// aliases amazon and aws-marketplace (which own no image in the model).
func (w *World) ownerMatches(owners []string, img *Image) bool {
	for _, o := range owners {
		switch o {
		case "self":
			if img.OwnerID == w.account {
				return true
			}
		case img.OwnerID:
			return true
		}
	}
	return false
}

// renderImage renders img as DescribeImages does.
func (w *World) renderImage(img *Image) ec2types.Image {
	out := ec2types.Image{
		ImageId:                  aws.String(img.ID),
		Name:                     aws.String(img.Name),
		OwnerId:                  aws.String(img.OwnerID),
		Architecture:             ec2types.ArchitectureValues(img.Architecture),
		State:                    ec2types.ImageState(img.State),
		CreationDate:             aws.String(ec2Time(img.CreationDate)),
		ImageLocation:            aws.String(img.OwnerID + "/" + img.Name),
		ImageType:                ec2types.ImageTypeValuesMachine,
		Public:                   aws.Bool(img.Public),
		RootDeviceName:           aws.String(img.RootDeviceName),
		RootDeviceType:           ec2types.DeviceTypeEbs,
		VirtualizationType:       ec2types.VirtualizationType(img.VirtualizationType),
		Hypervisor:               ec2types.HypervisorTypeXen,
		EnaSupport:               aws.Bool(true),
		PlatformDetails:          aws.String("Linux/UNIX"),
		UsageOperation:           aws.String("RunInstances"),
		Tags:                     toEC2Tags(img.Tags),
		BlockDeviceMappings:      renderBlockDevices(img.BlockDevices),
		DeregistrationProtection: aws.String(w.protectionValue(img)),
	}
	if !img.DeprecationTime.IsZero() {
		out.DeprecationTime = aws.String(ec2Time(img.DeprecationTime))
	}
	if t := w.lastLaunchedTime(img); !t.IsZero() {
		out.LastLaunchedTime = aws.String(iso8601(t))
	}
	if img.Description != "" {
		out.Description = aws.String(img.Description)
	}
	if img.SourceInstanceID != "" {
		out.SourceInstanceId = aws.String(img.SourceInstanceID)
	}
	if img.State == ImageFailed {
		out.StateReason = &ec2types.StateReason{Code: aws.String("Client.InvalidImage"), Message: aws.String(img.StateMessage)}
	}
	return out
}

// DeregisterImage deregisters one of the caller's images: it enters the
// deregistered state at once (emitting its state-change event) and can no
// longer be launched. Instances already running from it are unaffected. An
// image with deregistration protection (or in the cooldown after it) is
// refused. With DeleteAssociatedSnapshots, each of the image's snapshots is
// deleted unless another registered image uses it, and
// DeleteSnapshotResults reports each: success, or skipped.
func (e *EC2) DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, _ ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	id := aws.ToString(in.ImageId)
	if id == "" {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter imageId")
	}
	if !amiIDPattern.MatchString(id) {
		return nil, ec2Err("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	img, ok := r.Images[id]
	if !ok || !w.imageVisible(img) {
		return nil, ec2Err("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	if img.OwnerID != w.account {
		return nil, api.Errorf(http.StatusUnauthorized, "AuthFailure", "Not authorized for image:%s", id)
	}
	if img.State == ImageDeregistered {
		return nil, ec2Err("InvalidAMIID.Unavailable", "The image id '[%s]' is no longer available", id)
	}
	if err := w.checkDeregistrable(img); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	img.DeregisteredAt = w.now()
	img.requestID = api.RequestFrom(ctx).RequestID
	if img.requestID == "" {
		img.requestID = w.uuid()
	}
	w.setImageState(r, img, ImageDeregistered, "")
	out := &ec2.DeregisterImageOutput{Return: aws.Bool(true)}
	if aws.ToBool(in.DeleteAssociatedSnapshots) {
		out.DeleteSnapshotResults = []ec2types.DeleteSnapshotReturnCode{}
		done := map[*Snapshot]bool{}
		for _, bd := range img.BlockDevices {
			s := bd.Snapshot
			if s == nil || done[s] || s.Deleted {
				continue
			}
			done[s] = true
			code := ec2types.SnapshotReturnCodesSuccess
			if snapshotUser(r, s, img) != nil {
				code = ec2types.SnapshotReturnCodesWarnSkipped
			} else {
				s.Deleted = true
			}
			out.DeleteSnapshotResults = append(out.DeleteSnapshotResults, ec2types.DeleteSnapshotReturnCode{SnapshotId: aws.String(s.ID), ReturnCode: code})
		}
	}
	return out, nil
}

// launchableImage returns the image a launch may use, or EC2's error: the
// image must exist, be visible to the caller and be available.
func (w *World) launchableImage(r *Region, id string) (*Image, error) {
	if id == "" {
		return nil, ec2Err("MissingParameter", "The request must include the ImageId parameter or a launch template that specifies an ImageId")
	}
	if !amiIDPattern.MatchString(id) {
		return nil, ec2Err("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	img, ok := r.Images[id]
	if !ok || !w.imageVisible(img) || (img.State == ImageDeregistered && !w.imageListed(img)) {
		return nil, ec2Err("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	switch img.State {
	case ImageAvailable:
		return img, nil
	case ImagePending:
		return nil, ec2Err("InvalidAMIID.Unavailable", "AMI '%s' is pending, and cannot be run", id)
	case ImageDeregistered:
		return nil, ec2Err("InvalidAMIID.Unavailable", "AMI '%s' has been deregistered, and cannot be run", id)
	case ImageDisabled:
		return nil, ec2Err("InvalidAMIID.Unavailable", "AMI '%s' is disabled, and cannot be run", id)
	}
	return nil, ec2Err("InvalidAMIID.Unavailable", "AMI '%s' is %s, and cannot be run", id, img.State)
}
