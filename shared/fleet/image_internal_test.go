package fleet

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The local cloud always writes a valid CreationDate, so the rule for one
// that is not RFC 3339 is held here, on the mapping itself.
func TestAnImagesCreationDateThatIsNotRFC3339ReadsAsUnknown(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		date *string
		want time.Time
	}{
		{"EC2's own format reads in UTC", aws.String("2026-03-01T12:30:00.000Z"), time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)},
		{"an offset is turned into UTC", aws.String("2026-03-01T14:30:00+02:00"), time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)},
		{"a date without a time is unknown", aws.String("2026-03-01"), time.Time{}},
		{"garbage is unknown", aws.String("yesterday"), time.Time{}},
		{"no date is unknown", nil, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := imageFrom(ec2types.Image{
				ImageId: aws.String("ami-0123456789abcdef0"), State: ec2types.ImageStateAvailable,
				Architecture: ec2types.ArchitectureValuesArm64, CreationDate: tc.date,
				Tags: []ec2types.Tag{{Key: aws.String("phoenix:role"), Value: aws.String("web")}},
			})
			if !img.CreatedAt.Equal(tc.want) || img.CreatedAt.IsZero() != tc.want.IsZero() || (!img.CreatedAt.IsZero() && img.CreatedAt.Location() != time.UTC) {
				t.Errorf("CreatedAt = %v, want %v", img.CreatedAt, tc.want)
			}
			if img.ID != "ami-0123456789abcdef0" || img.State != "available" || img.Architecture != "arm64" || img.Tags["phoenix:role"] != "web" {
				t.Errorf("the rest of the image was not read: %+v", img)
			}
		})
	}
}
