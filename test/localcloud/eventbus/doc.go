// Package eventbus is the local cloud's Amazon EventBridge: the default event
// bus of every region, its rules and targets, and delivery on the simulated
// clock. Phoenix is started and moved along by events (new images,
// schedules, alarm state changes, instance refresh progress), so this model
// follows EventBridge's documented behaviour closely; where it has to guess,
// the guess is written down below.
//
// # What is modelled
//
// Event patterns (CompilePattern, Pattern.Match), with the semantics of
// EventBridge's matching engine (aws/event-ruler):
//   - exact strings, numbers, null and booleans; a pattern array lists
//     alternatives and an event array matches if any element does; numbers
//     compare by value to six decimal places within ±5e9 (300 = 3.0e2), and
//     by literal text beyond; a pattern string that is an IP address also
//     matches other spellings of that address;
//   - prefix, suffix (each also with equals-ignore-case), equals-ignore-case,
//     wildcard ('*', with "\*" and "\\" escapes; "**" refused);
//   - anything-but with a string, a number, a list of either, or applied to
//     prefix, suffix, equals-ignore-case or wildcard (the last two also with a
//     list); anything-but needs the field to be present;
//   - numeric with =, <, <=, >, >= and two-sided ranges;
//   - exists true/false on leaves: an object is not a leaf, null is, an empty
//     array has no leaves, a missing parent object means a missing field;
//   - cidr for IPv4 and IPv6; $or (nested, several groups per object);
//   - fields at any depth, the envelope fields (id, version, account, time,
//     region, source, detail-type, resources) included;
//   - array consistency: the fields of a pattern object that meets an array of
//     objects must all match within one element; a pattern object made only
//     of exists:false conditions must hold for every element.
//
// Bad patterns are refused with InvalidEventPatternException and the
// engine's reasons ("Empty arrays are not allowed", "Bottom must be less
// than top", ...), followed by a location in the style of the service (the
// line and column are close to, not always equal to, the service's). Text
// after the pattern object is refused, where the engine would ignore it.
//
// Schedules (ParseSchedule): rate(value unit) with minute/hour/day, singular
// exactly when the value is 1; cron(minutes hours day-of-month month
// day-of-week year) in UTC with , - * / everywhere the user guide allows them,
// ? in exactly one of the day fields, L and W (and LW) in day-of-month, L, nL
// and n#k in day-of-week, month and day names. A rate fires first one period
// after the rule is created or enabled; a cron fires at its exact instants.
// Every bad expression gets "Parameter ScheduleExpression is not valid."
//
// Target input: Input (constant JSON), InputPath and InputTransformer
// (InputPathsMap with $, .member, ['member'], [n] and * paths; InputTemplate
// with <variable> substitution, JSON values outside strings, raw text inside
// strings, <aws.events.rule-name>, <aws.events.rule-arn>,
// <aws.events.event> (the event without detail), <aws.events.event.json>
// (the whole event) and <aws.events.event.ingestion-time>); the result is
// minified when it is JSON.
//
// The API (methods with the aws-sdk-go-v2 client signatures): PutRule,
// DescribeRule, ListRules (NamePrefix, Limit, NextToken), EnableRule,
// DisableRule, DeleteRule (refused while targets exist), PutTargets (Lambda
// functions and Step Functions state machines, which need a RoleArn; up to
// 5 targets per rule; RetryPolicy and DeadLetterConfig accepted),
// RemoveTargets, ListTargetsByRule, PutEvents (1-10 entries, 256 KiB counted
// as the user guide does, per-entry EventId or ErrorCode, aws.* sources
// refused) and TestEventPattern. Service events of the simulated world
// enter through Publish (see package simbridge) and flow through the same
// bus, in the documented envelope.
//
// Delivery: routing happens at a clock event Options.Latency (100 ms) after
// the event reaches the bus, never inside PutEvents; each matching target
// gets its input through the Target interface (implemented by the Lambda and
// Step Functions models; Recorder is the fake). Failures are retried with
// exponential backoff and jitter until the target's RetryPolicy runs out
// (default 185 retries, 24 hours); missing-resource and permission errors
// and errors wrapped with Permanent are not retried. Scheduled rules fire on
// the clock with a "Scheduled Event" (source aws.events, detail {},
// resources [rule ARN]) delivered to that rule's targets. SetChaos
// duplicates, delays or drops deliveries with seeded probabilities, per rule
// or for all rules, so that consumers' deduplication can be tested;
// Deliveries lists every attempt and its outcome.
//
// # What is not modelled
//
// Custom and partner event buses (only "default" exists), cross-account and
// cross-region delivery, archives and replays, API destinations and
// connections, global endpoints, EventBridge Scheduler and Pipes, schema
// registry, resource policies and IAM checks (RoleArn is required where AWS
// requires it but never assumed), tags, managed rules, CloudTrail management
// events, target types other than Lambda and Step Functions (refused per
// entry with the local code UnsupportedTarget), dead-letter queues beyond
// recording the queue ARN on the final failed attempt, quotas other than
// the ones above (no throttling, no 300-rules limit), the engine's dotted-key
// flattening ({"a.b": [...]} matching {"a": {"b": ...}}, which AWS says not
// to rely on), and EventBridge's exact retry timing (undocumented; see
// backoff).
package eventbus
