// Package e2e runs whole rollouts on the local cloud the way users meet
// Phoenix: the project's template.yaml deployed with the real function
// binaries and state machine, a fleet made through the AWS SDK, a rollout
// started with StartExecution, and every check made through AWS APIs (Auto
// Scaling, EC2, Step Functions history, the DynamoDB ledger, SNS messages and
// EventBridge events). Nothing here calls Phoenix's Go code directly.
//
// BenchmarkRollout100Instances3Checkpoints measures one rollout of a
// 100-instance group; `make bench` prints its figures.
package e2e
