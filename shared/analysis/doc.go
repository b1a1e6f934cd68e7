// Package analysis judges a canary as Kayenta does: at a checkpoint it
// compares the instances (or target group) on the new image with those on
// the old one over the same window, metric by metric, with a Mann-Whitney
// U test and an effect-size threshold, and scores the metrics into pass,
// fail or inconclusive, keeping every number.
//
// It is pure domain code: it imports no AWS package. The caller reads the
// spec from SSM (ParseSpec), runs the queries it expands (Spec.Queries,
// Spec.Range) through GetMetricData, and hands the datapoints back
// (Spec.Analyze). docs/analysis.md describes the spec, the statistics, the
// default spec and the power measured for it.
package analysis
