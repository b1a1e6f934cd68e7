// Package canary holds the check that canary analysis (shared/analysis)
// and the local cloud's per-instance metrics fit: the default spec, run
// through GetMetricData against a stepped local cloud whose canary image
// carries a regression tag (errors:P, slower:F, leak:R), fails it, and
// passes an identical image. It lives in the product's module because the
// local cloud's module imports nothing of Phoenix's (test/contract holds
// it to that).
package canary
