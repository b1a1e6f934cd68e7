package params

// ImageParameterARNs returns the ARNs of region's parameters of data type
// aws:ec2:image whose current value is imageID, sorted by name: the SSM
// parameters EC2's DescribeImageReferences reports as referencing the AMI.
// It is read-only and takes mu alone, which the store never holds while
// calling out, so the EC2 model may call it with the World lock held
// (*ParameterStore satisfies sim.ImageParameterSource).
func (s *ParameterStore) ImageParameterARNs(region, imageID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[region]
	var out []string
	for _, name := range sortedNames(r) {
		if v := r[name].latest(); v.dataType == dataTypeImage && v.value == imageID {
			out = append(out, s.arn(region, name))
		}
	}
	return out
}
