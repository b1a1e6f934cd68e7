// Package differential holds the local cloud to an independent emulator:
// its tests send the same request sequences, through the real SDK clients,
// to a local cloud and to moto's server (moto 5.2.1, from the machine's
// python3), and compare what a client can observe (result fields, error
// codes and HTTP statuses, pagination, ordering where AWS defines one).
// Where the two disagree the AWS documentation decides: the local cloud is
// fixed, or the divergence is recorded in docs/local-cloud-vs-moto.md with
// the test asserting the documented choice.
//
// moto does not implement instance refresh or Image Builder, and stores
// lifecycle hooks without acting on them: those stay the local cloud's own
// (held to the AWS docs by its conformance rules).
package differential
