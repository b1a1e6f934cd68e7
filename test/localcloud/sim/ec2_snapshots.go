package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Snapshot states, as EBS names them.
const (
	SnapshotPending   = "pending"
	SnapshotCompleted = "completed"
	SnapshotError     = "error"
)

// defaultVolumeSize is the size in GiB of the root volume of an image whose
// mapping names none (the size of Amazon Linux's root volume).
const defaultVolumeSize int32 = 8

// defaultVolumeType is the type of an EBS volume whose mapping names none.
const defaultVolumeType = "gp2"

var snapshotIDPattern = regexp.MustCompile(`^snap-([0-9a-f]{8}|[0-9a-f]{17})$`)

// Snapshot is an EBS snapshot behind an image. The model makes snapshots
// only for images: CreateImage snapshots the instance's volumes, and
// RegisterImage (or AddImage) makes the root snapshot a caller would have
// taken with CreateSnapshot before registering.
type Snapshot struct {
	ID          string
	OwnerID     string
	VolumeID    string
	VolumeSize  int32
	State       string // pending | completed | error
	StartTime   time.Time
	Description string
	Tags        map[string]string
	// Deleted is set by DeleteSnapshot or DeregisterImage with
	// DeleteAssociatedSnapshots; a deleted snapshot is gone from every
	// listing.
	Deleted bool

	// order sorts snapshots by creation: the making image's seq, then the
	// snapshot's place among that image's snapshots.
	order uint64
}

// BlockDevice is one block device mapping of an image.
type BlockDevice struct {
	DeviceName string
	// Snapshot is the EBS snapshot the volume is made from; nil for an
	// empty EBS volume or a mapping that is not EBS.
	Snapshot *Snapshot
	// EBS is set for EBS mappings.
	EBS                 bool
	VolumeSize          int32
	VolumeType          string
	DeleteOnTermination bool
	VirtualName         string
	NoDevice            bool
}

// derivedID returns a stable EC2-shaped id for the n-th resource of kind
// made for an image. It is derived from the image id rather than drawn from
// the World's random source, so that modelling snapshots leaves every other
// id of a seeded World as it was.
func derivedID(prefix, imageID string, n int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", prefix, imageID, n)
	return fmt.Sprintf("%s-%017x", prefix, h.Sum64()&0xfffffffffffffff|0x100000000000000)
}

// newSnapshot records a pending snapshot made for img.
func (w *World) newSnapshot(img *Image, volumeID string, size int32, description string, tags map[string]string) *Snapshot {
	n := len(img.snapshots)
	s := &Snapshot{
		ID:          derivedID("snap", img.ID, n),
		OwnerID:     img.OwnerID,
		VolumeID:    volumeID,
		VolumeSize:  size,
		State:       SnapshotPending,
		StartTime:   w.now(),
		Description: description,
		Tags:        map[string]string{},
		order:       img.seq<<8 | uint64(n),
	}
	for k, v := range tags {
		s.Tags[k] = v
	}
	img.snapshots = append(img.snapshots, s)
	return s
}

// rootBlockDevice gives img a root EBS mapping backed by a new snapshot of
// size GiB, as RegisterImage does for an image registered without one.
func (w *World) rootBlockDevice(img *Image, size int32, tags map[string]string) *BlockDevice {
	snap := w.newSnapshot(img, "vol-ffffffff", size, "", tags)
	return &BlockDevice{DeviceName: img.RootDeviceName, Snapshot: snap, EBS: true, VolumeSize: size, VolumeType: defaultVolumeType, DeleteOnTermination: true}
}

// snapshotsFollowImage moves the pending snapshots of img with the image:
// completed when it becomes available, error when it fails.
func snapshotsFollowImage(img *Image) {
	for _, s := range img.snapshots {
		if s.State != SnapshotPending {
			continue
		}
		switch img.State {
		case ImageAvailable:
			s.State = SnapshotCompleted
		case ImageFailed:
			s.State = SnapshotError
		}
	}
}

// allSnapshots returns the region's snapshots that are not deleted, in
// creation order.
func allSnapshots(r *Region) []*Snapshot {
	var out []*Snapshot
	for _, img := range r.Images {
		for _, s := range img.snapshots {
			if !s.Deleted {
				out = append(out, s)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out
}

// ownSnapshot finds one of the caller's snapshots that is not deleted.
func (w *World) ownSnapshot(r *Region, id string) *Snapshot {
	for _, img := range r.Images {
		for _, s := range img.snapshots {
			if s.ID == id && !s.Deleted && s.OwnerID == w.account {
				return s
			}
		}
	}
	return nil
}

// snapshotUser returns the registered image (any state but deregistered)
// that uses snap, other than except; nil when none does. The oldest such
// image is returned, so that messages are stable.
func snapshotUser(r *Region, snap *Snapshot, except *Image) *Image {
	var found *Image
	for _, img := range r.Images {
		if img == except || img.State == ImageDeregistered {
			continue
		}
		for _, bd := range img.BlockDevices {
			if bd.Snapshot == snap && (found == nil || img.seq < found.seq) {
				found = img
			}
		}
	}
	return found
}

// blockDevicesFromRequest builds the mappings RegisterImage was given. An
// EBS mapping that names a snapshot uses it (the caller's, not deleted); the
// root device's mapping without a snapshot gets a new root snapshot, and
// other EBS mappings without one are empty volumes, as in EC2. When no
// mapping is for the root device, a root mapping with a new snapshot of
// defaultVolumeSize GiB is added first.
func (w *World) blockDevicesFromRequest(r *Region, img *Image, in []ec2types.BlockDeviceMapping, snapTags map[string]string) ([]*BlockDevice, error) {
	var out []*BlockDevice
	root := false
	seen := map[string]bool{}
	for _, m := range in {
		name := aws.ToString(m.DeviceName)
		if name == "" {
			return nil, ec2Err("MissingParameter", "The request must contain the parameter BlockDeviceMapping.DeviceName")
		}
		if seen[name] {
			return nil, ec2Err("InvalidBlockDeviceMapping", "The device '%s' is used in more than one block-device mapping", name)
		}
		seen[name] = true
		bd := &BlockDevice{DeviceName: name, VirtualName: aws.ToString(m.VirtualName), NoDevice: m.NoDevice != nil}
		if name == img.RootDeviceName {
			root = true
		}
		if e := m.Ebs; e != nil {
			bd.EBS = true
			bd.VolumeType = string(e.VolumeType)
			if bd.VolumeType == "" {
				bd.VolumeType = defaultVolumeType
			}
			bd.DeleteOnTermination = e.DeleteOnTermination == nil || *e.DeleteOnTermination
			size := aws.ToInt32(e.VolumeSize)
			if size < 0 || size > 16384 {
				return nil, api.InvalidParameterValue("Volume size %d for device %s is invalid. Valid sizes are 1-16384 GiB.", size, name)
			}
			if id := aws.ToString(e.SnapshotId); id != "" {
				if !snapshotIDPattern.MatchString(id) {
					return nil, ec2Err("InvalidSnapshotID.Malformed", "Invalid id: \"%s\" (expecting \"snap-...\")", id)
				}
				snap := w.ownSnapshot(r, id)
				if snap == nil {
					return nil, ec2Err("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
				}
				if size == 0 {
					size = snap.VolumeSize
				}
				if size < snap.VolumeSize {
					return nil, ec2Err("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", size, id, snap.VolumeSize)
				}
				bd.Snapshot = snap
			}
			if size == 0 {
				size = defaultVolumeSize
			}
			bd.VolumeSize = size
		}
		out = append(out, bd)
	}
	if !root {
		out = append([]*BlockDevice{w.rootBlockDevice(img, defaultVolumeSize, snapTags)}, out...)
	}
	for _, bd := range out {
		if bd.EBS && bd.Snapshot == nil && bd.DeviceName == img.RootDeviceName {
			bd.Snapshot = w.newSnapshot(img, "vol-ffffffff", bd.VolumeSize, "", snapTags)
		}
	}
	return out, nil
}

// blockDevicesOfInstance snapshots the volumes of an instance for
// CreateImage: one new snapshot per EBS volume of the instance's image,
// described as EC2 describes them, with the mapping's overrides applied
// (VolumeSize, NoDevice to leave a volume out).
func (w *World) blockDevicesOfInstance(r *Region, img *Image, inst *Instance, in []ec2types.BlockDeviceMapping, snapTags map[string]string) ([]*BlockDevice, error) {
	var volumes []*BlockDevice
	if src, ok := r.Images[inst.ImageID]; ok && len(src.BlockDevices) > 0 {
		volumes = src.BlockDevices
	} else {
		volumes = []*BlockDevice{{DeviceName: img.RootDeviceName, EBS: true, VolumeSize: defaultVolumeSize, VolumeType: defaultVolumeType, DeleteOnTermination: true}}
	}
	overrides := map[string]ec2types.BlockDeviceMapping{}
	for _, m := range in {
		overrides[aws.ToString(m.DeviceName)] = m
	}
	var out []*BlockDevice
	for i, v := range volumes {
		bd := *v
		bd.Snapshot = nil
		if m, ok := overrides[v.DeviceName]; ok {
			delete(overrides, v.DeviceName)
			if m.NoDevice != nil {
				continue
			}
			if m.Ebs != nil && m.Ebs.VolumeSize != nil {
				if *m.Ebs.VolumeSize < v.VolumeSize {
					return nil, ec2Err("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than the instance's volume on %s (%dGB)", *m.Ebs.VolumeSize, v.DeviceName, v.VolumeSize)
				}
				bd.VolumeSize = *m.Ebs.VolumeSize
			}
		}
		if bd.EBS {
			volID := derivedID("vol", inst.ID, i)
			bd.Snapshot = w.newSnapshot(img, volID, bd.VolumeSize,
				fmt.Sprintf("Created by CreateImage(%s) for %s", inst.ID, img.ID), snapTags)
		}
		out = append(out, &bd)
	}
	for _, m := range in {
		if _, left := overrides[aws.ToString(m.DeviceName)]; !left {
			continue
		}
		// A mapping for a device the instance does not have: an empty
		// volume (or instance store) recorded in the image.
		bd := &BlockDevice{DeviceName: aws.ToString(m.DeviceName), VirtualName: aws.ToString(m.VirtualName), NoDevice: m.NoDevice != nil}
		if m.Ebs != nil {
			bd.EBS = true
			bd.VolumeSize = aws.ToInt32(m.Ebs.VolumeSize)
			if bd.VolumeSize == 0 {
				bd.VolumeSize = defaultVolumeSize
			}
			bd.VolumeType = string(m.Ebs.VolumeType)
			if bd.VolumeType == "" {
				bd.VolumeType = defaultVolumeType
			}
			bd.DeleteOnTermination = m.Ebs.DeleteOnTermination == nil || *m.Ebs.DeleteOnTermination
		}
		out = append(out, bd)
	}
	return out, nil
}

// renderBlockDevices renders an image's mappings as DescribeImages does.
func renderBlockDevices(bds []*BlockDevice) []ec2types.BlockDeviceMapping {
	out := []ec2types.BlockDeviceMapping{}
	for _, bd := range bds {
		m := ec2types.BlockDeviceMapping{DeviceName: aws.String(bd.DeviceName)}
		if bd.VirtualName != "" {
			m.VirtualName = aws.String(bd.VirtualName)
		}
		if bd.NoDevice {
			m.NoDevice = aws.String("")
		}
		if bd.EBS {
			m.Ebs = &ec2types.EbsBlockDevice{
				DeleteOnTermination: aws.Bool(bd.DeleteOnTermination),
				VolumeSize:          aws.Int32(bd.VolumeSize),
				VolumeType:          ec2types.VolumeType(bd.VolumeType),
				Encrypted:           aws.Bool(false),
			}
			if bd.Snapshot != nil {
				m.Ebs.SnapshotId = aws.String(bd.Snapshot.ID)
			}
		}
		out = append(out, m)
	}
	return out
}

// renderSnapshot renders s as DescribeSnapshots does.
func renderSnapshot(s *Snapshot) ec2types.Snapshot {
	progress := "0%"
	if s.State == SnapshotCompleted {
		progress = "100%"
	}
	out := ec2types.Snapshot{
		SnapshotId:  aws.String(s.ID),
		OwnerId:     aws.String(s.OwnerID),
		VolumeId:    aws.String(s.VolumeID),
		VolumeSize:  aws.Int32(s.VolumeSize),
		State:       ec2types.SnapshotState(s.State),
		StartTime:   aws.Time(s.StartTime),
		Progress:    aws.String(progress),
		Description: aws.String(s.Description),
		Encrypted:   aws.Bool(false),
		StorageTier: ec2types.StorageTierStandard,
		Tags:        toEC2Tags(s.Tags),
	}
	if s.State == SnapshotCompleted {
		out.CompletionTime = aws.Time(s.StartTime)
	}
	return out
}

// DescribeSnapshots describes the caller's snapshots (the model has no
// public snapshots and none shared with the caller). SnapshotIds selects
// snapshots (InvalidSnapshot.NotFound names any that do not exist);
// OwnerIds takes self and account ids; Filters: snapshot-id, description,
// owner-id, progress, start-time, status, volume-id, volume-size,
// encrypted, storage-tier, tag:KEY and tag-key, with * and ? wildcards.
// MaxResults (5-1000) and NextToken page through the snapshots; MaxResults
// cannot be combined with SnapshotIds. RestorableByUserIds is not modelled.
func (e *EC2) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.RestorableByUserIds) > 0 {
		return nil, api.InvalidParameterValue("The local cloud does not model the parameter RestorableByUserIds of DescribeSnapshots")
	}
	size, after, err := describePage("snapshotSet", len(in.SnapshotIds), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if err := checkFilterNames(in.Filters, "snapshot-id", "description", "owner-id", "progress", "start-time", "status",
		"volume-id", "volume-size", "encrypted", "storage-tier"); err != nil {
		return nil, err
	}
	var list []*Snapshot
	if len(in.SnapshotIds) > 0 {
		var missing []string
		for _, id := range in.SnapshotIds {
			if !snapshotIDPattern.MatchString(id) {
				return nil, ec2Err("InvalidSnapshotID.Malformed", "Invalid id: \"%s\" (expecting \"snap-...\")", id)
			}
			if s := w.ownSnapshot(r, id); s != nil {
				list = append(list, s)
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) == 1 {
			return nil, ec2Err("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", missing[0])
		}
		if len(missing) > 1 {
			return nil, ec2Err("InvalidSnapshot.NotFound", "The snapshots '%s' do not exist.", idList(missing))
		}
		sort.Slice(list, func(i, j int) bool { return list[i].order < list[j].order })
	} else {
		for _, s := range allSnapshots(r) {
			if s.OwnerID == w.account {
				list = append(list, s)
			}
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out := &ec2.DescribeSnapshotsOutput{Snapshots: []ec2types.Snapshot{}}
	var last uint64
	for _, s := range list {
		if s.order <= after {
			continue
		}
		if len(in.OwnerIds) > 0 && !ownerIn(in.OwnerIds, s.OwnerID, w.account) {
			continue
		}
		ok, err := matchFilters(in.Filters, s.Tags, func(name string) ([]string, bool) {
			rs := renderSnapshot(s)
			switch name {
			case "snapshot-id":
				return []string{s.ID}, true
			case "description":
				return []string{s.Description}, true
			case "owner-id":
				return []string{s.OwnerID}, true
			case "progress":
				return []string{aws.ToString(rs.Progress)}, true
			case "start-time":
				return []string{ec2Time(s.StartTime)}, true
			case "status":
				return []string{s.State}, true
			case "volume-id":
				return []string{s.VolumeID}, true
			case "volume-size":
				return []string{strconv.Itoa(int(s.VolumeSize))}, true
			case "encrypted":
				return []string{"false"}, true
			case "storage-tier":
				return []string{"standard"}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if size > 0 && len(out.Snapshots) == size {
			out.NextToken = pageToken(last)
			break
		}
		out.Snapshots = append(out.Snapshots, renderSnapshot(s))
		last = s.order
	}
	return out, nil
}

// ownerIn applies an OwnerIds list: "self" and account ids.
func ownerIn(owners []string, owner, self string) bool {
	for _, o := range owners {
		if o == owner || (o == "self" && owner == self) {
			return true
		}
	}
	return false
}

// DeleteSnapshot deletes one of the caller's snapshots. As EC2 documents, a
// snapshot used by a registered AMI cannot be deleted until the AMI is
// deregistered (InvalidSnapshot.InUse).
func (e *EC2) DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	id := aws.ToString(in.SnapshotId)
	if id == "" {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter snapshotId")
	}
	if !snapshotIDPattern.MatchString(id) {
		return nil, ec2Err("InvalidSnapshotID.Malformed", "Invalid id: \"%s\" (expecting \"snap-...\")", id)
	}
	s := w.ownSnapshot(r, id)
	if s == nil {
		return nil, ec2Err("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
	}
	if img := snapshotUser(r, s, nil); img != nil {
		return nil, ec2Err("InvalidSnapshot.InUse", "The snapshot %s is currently in use by %s", id, img.ID)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	s.Deleted = true
	return &ec2.DeleteSnapshotOutput{}, nil
}
