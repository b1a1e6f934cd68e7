package functions

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// lastModifiedLayout is how Lambda formats FunctionConfiguration.LastModified.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

// CreateFunction creates a function from a .zip package (Code.ZipFile) or
// from a local bootstrap (Code.S3Bucket LocalCodeBucket, Code.S3Key an
// absolute path). The function is Pending until the clock next runs its
// events. Errors: ValidationException for values outside the API model's
// constraints, InvalidParameterValueException for values Lambda refuses
// (reserved environment variables, missing Runtime or Handler, bad code),
// ResourceConflictException if the function exists.
func (s *Service) CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, _ ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error) {
	// Not api.Begin: unlocks by hand mid-way to load the code (file I/O) outside s.mu.
	region := api.Region(ctx)
	var v violations
	if in.FunctionName == nil {
		v.null("functionName")
	} else {
		v.pattern(*in.FunctionName, "functionName", createNameRE, createNamePattern)
	}
	if in.Role == nil {
		v.null("role")
	} else {
		v.pattern(*in.Role, "role", roleRE, rolePattern)
	}
	if in.Code == nil {
		v.null("code")
	}
	checkConfig(&v, configInput{
		runtime: in.Runtime, handler: in.Handler, description: in.Description, timeout: in.Timeout,
		memory: in.MemorySize, tracing: in.TracingConfig, ephemeral: in.EphemeralStorage,
	})
	checkArchitectures(&v, in.Architectures)
	v.enum(string(in.PackageType), "packageType", enumStrings(types.PackageType("").Values()))
	var vars map[string]string
	if in.Environment != nil {
		vars = in.Environment.Variables
	}
	envErr := checkEnv(&v, vars)
	if err := v.err(); err != nil {
		return nil, err
	}
	if envErr != nil {
		return nil, envErr
	}
	if in.PackageType == types.PackageTypeImage {
		return nil, invalidParameter("The local cloud runs only .zip deployment packages (PackageType Zip), not container images.")
	}
	if in.Runtime == "" || in.Handler == nil {
		return nil, invalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if err := runnable(in.Runtime); err != nil {
		return nil, err
	}
	if err := unsupported(in.Publish, in.Layers, in.VpcConfig, in.FileSystemConfigs, in.DeadLetterConfig, in.CodeSigningConfigArn, in.ImageConfig, in.CapacityProviderConfig, in.DurableConfig, in.SnapStart); err != nil {
		return nil, err
	}
	t, err := s.resolve(region, in.FunctionName, nil)
	if err != nil {
		return nil, err
	}
	name := t.name

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, api.Internal("the local Lambda service is closed")
	}
	if s.lookup(region, name) != nil {
		s.mu.Unlock()
		return nil, api.Errorf(http.StatusConflict, "ResourceConflictException", "Function already exist: %s", name)
	}
	revision := s.newID()
	s.mu.Unlock()

	src := codeSource{zipFile: in.Code.ZipFile, s3Bucket: in.Code.S3Bucket, s3Key: in.Code.S3Key, s3Version: in.Code.S3ObjectVersion, imageURI: in.Code.ImageUri}
	c, err := loadCode(src, filepath.Join(s.workDir, "code", region, safeName(name), revision))
	if err != nil {
		return nil, err
	}
	cfg := &config{
		runtime: in.Runtime, handler: *in.Handler, role: *in.Role, description: aws.ToString(in.Description),
		timeout: defaultTimeout, memory: defaultMemory, env: maps.Clone(vars), arch: types.ArchitectureX8664,
		tracing: types.TracingModePassThrough, code: c, lastModified: s.clock.Now(), revision: revision,
	}
	if in.Timeout != nil {
		cfg.timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		cfg.memory = *in.MemorySize
	}
	if len(in.Architectures) == 1 {
		cfg.arch = in.Architectures[0]
	}
	if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
		cfg.tracing = in.TracingConfig.Mode
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookup(region, name) != nil {
		return nil, api.Errorf(http.StatusConflict, "ResourceConflictException", "Function already exist: %s", name)
	}
	fn := &function{
		region: region, name: name, arn: s.functionARN(region, name), cfg: cfg,
		metricDims: map[string]string{"FunctionName": name},
		state:      types.StatePending,
		tags:       maps.Clone(in.Tags), busy: map[*environment]bool{},
	}
	s.functions[key(region, name)] = fn
	s.clock.At(s.clock.Now().Add(s.opts.ActivationDelay), "lambda:activate "+name, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.lookup(region, name) == fn && fn.state == types.StatePending {
			fn.state, fn.lastUpdate = types.StateActive, types.LastUpdateStatusSuccessful
		}
	})
	out := &lambda.CreateFunctionOutput{}
	copyFields(out, fn.configuration())
	return out, nil
}

// configInput gathers the configuration members CreateFunction and
// UpdateFunctionConfiguration share.
type configInput struct {
	runtime     types.Runtime
	handler     *string
	description *string
	timeout     *int32
	memory      *int32
	tracing     *types.TracingConfig
	ephemeral   *types.EphemeralStorage
}

// checkConfig applies the API model's constraints to configuration members.
func checkConfig(v *violations, c configInput) {
	v.enum(string(c.runtime), "runtime", enumStrings(types.Runtime("").Values()))
	if c.handler != nil {
		v.maxLen(*c.handler, "handler", maxHandler)
		v.pattern(*c.handler, "handler", handlerRE, handlerPattern)
	}
	if c.description != nil {
		v.maxLen(*c.description, "description", maxDescription)
	}
	v.intRange(c.timeout, "timeout", minTimeout, maxTimeout)
	v.intRange(c.memory, "memorySize", minMemory, maxMemory)
	if c.tracing != nil {
		v.enum(string(c.tracing.Mode), "tracingConfig.mode", enumStrings(types.TracingMode("").Values()))
	}
	if c.ephemeral != nil {
		if c.ephemeral.Size == nil {
			v.null("ephemeralStorage.size")
		}
		v.intRange(c.ephemeral.Size, "ephemeralStorage.size", 512, 10240)
	}
}

// checkArchitectures applies the model's constraints to Architectures: one
// member, x86_64 or arm64.
func checkArchitectures(v *violations, archs []types.Architecture) {
	if archs == nil {
		return
	}
	if len(archs) != 1 {
		v.add(fmt.Sprintf("%v", archs), "architectures", "Member must have length less than or equal to 1")
		return
	}
	v.enum(string(archs[0]), "architectures.1.member", enumStrings(types.Architecture("").Values()))
}

// unsupported refuses features the local cloud does not model, so that a
// test relying on them fails loudly instead of passing without them.
func unsupported(publish bool, layers []string, vpc *types.VpcConfig, fs []types.FileSystemConfig, dlq *types.DeadLetterConfig, signing *string, image *types.ImageConfig, capacity *types.CapacityProviderConfig, durable *types.DurableConfig, snap *types.SnapStart) error {
	var what string
	switch {
	case publish:
		what = "Publish (function versions)"
	case len(layers) > 0:
		what = "Layers"
	case vpc != nil && (len(vpc.SubnetIds) > 0 || len(vpc.SecurityGroupIds) > 0):
		what = "VpcConfig"
	case len(fs) > 0:
		what = "FileSystemConfigs"
	case dlq != nil && aws.ToString(dlq.TargetArn) != "":
		what = "DeadLetterConfig"
	case signing != nil:
		what = "CodeSigningConfigArn"
	case image != nil:
		what = "ImageConfig"
	case capacity != nil:
		what = "CapacityProviderConfig"
	case durable != nil:
		what = "DurableConfig"
	case snap != nil && snap.ApplyOn == types.SnapStartApplyOnPublishedVersions:
		what = "SnapStart"
	default:
		return nil
	}
	return invalidParameter("The local cloud does not support %s.", what)
}

// configuration renders the record as Lambda's FunctionConfiguration;
// callers hold s.mu.
func (fn *function) configuration() types.FunctionConfiguration {
	c := fn.cfg
	out := types.FunctionConfiguration{
		FunctionName:     aws.String(fn.name),
		FunctionArn:      aws.String(fn.arn),
		Runtime:          c.runtime,
		Role:             aws.String(c.role),
		Handler:          aws.String(c.handler),
		CodeSize:         c.code.size,
		CodeSha256:       aws.String(c.code.sha256),
		Description:      aws.String(c.description),
		Timeout:          aws.Int32(c.timeout),
		MemorySize:       aws.Int32(c.memory),
		LastModified:     aws.String(c.lastModified.Format(lastModifiedLayout)),
		Version:          aws.String("$LATEST"),
		TracingConfig:    &types.TracingConfigResponse{Mode: c.tracing},
		RevisionId:       aws.String(c.revision),
		State:            fn.state,
		LastUpdateStatus: fn.lastUpdate,
		PackageType:      types.PackageTypeZip,
		Architectures:    []types.Architecture{c.arch},
		EphemeralStorage: &types.EphemeralStorage{Size: aws.Int32(512)},
		LoggingConfig:    &types.LoggingConfig{LogFormat: types.LogFormatText, LogGroup: aws.String(logGroup(fn.name))},
		SnapStart:        &types.SnapStartResponse{ApplyOn: types.SnapStartApplyOnNone, OptimizationStatus: types.SnapStartOptimizationStatusOff},
	}
	if len(c.env) > 0 {
		out.Environment = &types.EnvironmentResponse{Variables: maps.Clone(c.env)}
	}
	switch fn.state {
	case types.StatePending:
		out.StateReason = aws.String("The function is being created.")
		out.StateReasonCode = types.StateReasonCodeCreating
	}
	if fn.lastUpdate == types.LastUpdateStatusInProgress && fn.state == types.StateActive {
		out.LastUpdateStatusReason = aws.String("The function is being updated.")
		out.LastUpdateStatusReasonCode = types.LastUpdateStatusReasonCode("Updating")
	}
	return out
}

// copyFields copies the fields of src into the same-named, same-typed fields
// of dst (both pointers to structs): the operation outputs repeat
// FunctionConfiguration's members.
func copyFields(dst any, src any) {
	dv := reflect.ValueOf(dst).Elem()
	sv := reflect.ValueOf(src)
	if sv.Kind() == reflect.Pointer {
		sv = sv.Elem()
	}
	for i := 0; i < sv.NumField(); i++ {
		f := sv.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if df := dv.FieldByName(f.Name); df.IsValid() && df.Type() == f.Type && df.CanSet() {
			df.Set(sv.Field(i))
		}
	}
}

// GetFunction returns a function's configuration, code location and tags.
// Errors: ResourceNotFoundException.
func (s *Service) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	t, err := s.resolve(region, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	fn := s.lookup(t.region, t.name)
	if fn == nil {
		return nil, notFound(s.functionARN(t.region, t.name))
	}
	cfg := fn.configuration()
	out := &lambda.GetFunctionOutput{
		Configuration: &cfg,
		Code:          &types.FunctionCodeLocation{RepositoryType: aws.String("S3"), Location: aws.String(fn.cfg.code.location)},
	}
	if len(fn.tags) > 0 {
		out.Tags = maps.Clone(fn.tags)
	}
	return out, nil
}

// GetFunctionConfiguration returns a function's configuration. Errors:
// ResourceNotFoundException.
func (s *Service) GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	t, err := s.resolve(region, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	fn := s.lookup(t.region, t.name)
	if fn == nil {
		return nil, notFound(s.functionARN(t.region, t.name))
	}
	out := &lambda.GetFunctionConfigurationOutput{}
	copyFields(out, fn.configuration())
	return out, nil
}

// ListFunctions lists the region's functions by name, MaxItems (1-10000,
// default 50) at a time but never more than 50, as Lambda documents;
// NextMarker continues the listing.
func (s *Service) ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, _ ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	var v violations
	v.intRange(in.MaxItems, "maxItems", 1, 10000)
	v.enum(string(in.FunctionVersion), "functionVersion", enumStrings(types.FunctionVersion("").Values()))
	if err := v.err(); err != nil {
		return nil, err
	}
	limit := 50
	if in.MaxItems != nil {
		limit = min(int(*in.MaxItems), 50)
	}
	start := 0
	if m := aws.ToString(in.Marker); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		n, perr := strconv.Atoi(string(raw))
		if err != nil || perr != nil || n < 0 {
			return nil, invalidParameter("Invalid marker: %s", m)
		}
		start = n
	}
	all := s.sortedFunctions(region)
	out := &lambda.ListFunctionsOutput{Functions: []types.FunctionConfiguration{}}
	for i := start; i < len(all) && i < start+limit; i++ {
		out.Functions = append(out.Functions, all[i].configuration())
	}
	if start+limit < len(all) {
		out.NextMarker = aws.String(base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(start + limit))))
	}
	return out, nil
}

// DeleteFunction deletes a function, stopping its execution environments;
// queued asynchronous events are discarded. Errors:
// ResourceNotFoundException, InvalidParameterValueException for $LATEST.
func (s *Service) DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, _ ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error) {
	// Not api.Begin: unlocks by hand before stopping the environments (processes) outside s.mu.
	t, err := s.resolve(api.Region(ctx), in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	if t.qualifier == "$LATEST" {
		return nil, invalidParameter("$LATEST version cannot be deleted without deleting the function.")
	}
	s.mu.Lock()
	fn := s.lookup(t.region, t.name)
	if fn == nil {
		s.mu.Unlock()
		return nil, notFound(s.functionARN(t.region, t.name))
	}
	delete(s.functions, key(t.region, t.name))
	envs := fn.takeAllEnvs()
	s.mu.Unlock()
	for _, e := range envs {
		e.destroy()
	}
	return &lambda.DeleteFunctionOutput{StatusCode: http.StatusNoContent}, nil
}

// checkUpdatable refuses an update while another is in progress or the
// RevisionId is stale; callers hold s.mu.
func checkUpdatable(fn *function, revision *string) error {
	if fn.state == types.StatePending {
		return notReady(fn)
	}
	if fn.lastUpdate == types.LastUpdateStatusInProgress {
		return api.Errorf(http.StatusConflict, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: %s", fn.arn)
	}
	if revision != nil && *revision != fn.cfg.revision {
		return api.Errorf(http.StatusPreconditionFailed, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	}
	return nil
}

// notReady is Lambda's answer to an operation on a function that is not
// Active yet.
func notReady(fn *function) error {
	return api.Errorf(http.StatusConflict, "ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: %s", fn.state)
}

// applyUpdate installs cfg and marks the update InProgress until the clock
// next runs its events; warm environments running the old configuration
// are retired. Callers hold s.mu and get the environments to destroy.
func (s *Service) applyUpdate(fn *function, cfg *config) []*environment {
	fn.cfg = cfg
	fn.lastUpdate = types.LastUpdateStatusInProgress
	s.clock.At(s.clock.Now().Add(s.opts.ActivationDelay), "lambda:update "+fn.name, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if fn.cfg == cfg {
			fn.lastUpdate = types.LastUpdateStatusSuccessful
		}
	})
	stale := fn.idle
	fn.idle = nil
	return stale
}

// UpdateFunctionCode replaces a function's code. Errors:
// ResourceNotFoundException, ResourceConflictException while an update is
// in progress, PreconditionFailedException for a stale RevisionId,
// InvalidParameterValueException for bad code.
func (s *Service) UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error) {
	// Not api.Begin: unlocks by hand mid-way to load the code (file I/O) outside s.mu.
	var v violations
	checkArchitectures(&v, in.Architectures)
	if err := v.err(); err != nil {
		return nil, err
	}
	t, err := s.resolve(api.Region(ctx), in.FunctionName, nil)
	if err != nil {
		return nil, err
	}
	if err := unsupported(in.Publish, nil, nil, nil, nil, nil, nil, nil, nil, nil); err != nil {
		return nil, err
	}
	s.mu.Lock()
	fn := s.lookup(t.region, t.name)
	if fn == nil {
		s.mu.Unlock()
		return nil, notFound(s.functionARN(t.region, t.name))
	}
	if err := checkUpdatable(fn, in.RevisionId); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	revision := s.newID()
	s.mu.Unlock()

	src := codeSource{zipFile: in.ZipFile, s3Bucket: in.S3Bucket, s3Key: in.S3Key, s3Version: in.S3ObjectVersion, imageURI: in.ImageUri}
	c, err := loadCode(src, filepath.Join(s.workDir, "code", t.region, safeName(t.name), revision))
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	if s.lookup(t.region, t.name) != fn {
		s.mu.Unlock()
		return nil, notFound(fn.arn)
	}
	if err := checkUpdatable(fn, in.RevisionId); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	next := *fn.cfg
	next.code, next.revision, next.lastModified = c, revision, s.clock.Now()
	if len(in.Architectures) == 1 {
		next.arch = in.Architectures[0]
	}
	out := &lambda.UpdateFunctionCodeOutput{}
	var stale []*environment
	if in.DryRun {
		preview := *fn
		preview.cfg = &next
		copyFields(out, preview.configuration())
	} else {
		stale = s.applyUpdate(fn, &next)
		copyFields(out, fn.configuration())
	}
	s.mu.Unlock()
	for _, e := range stale {
		e.destroy()
	}
	return out, nil
}

// UpdateFunctionConfiguration changes a function's settings. Errors as
// CreateFunction, plus ResourceNotFoundException, ResourceConflictException
// while an update is in progress and PreconditionFailedException for a
// stale RevisionId.
func (s *Service) UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	// Not api.Begin: unlocks by hand before stopping stale environments outside s.mu.
	var v violations
	if in.Role != nil {
		v.pattern(*in.Role, "role", roleRE, rolePattern)
	}
	checkConfig(&v, configInput{
		runtime: in.Runtime, handler: in.Handler, description: in.Description, timeout: in.Timeout,
		memory: in.MemorySize, tracing: in.TracingConfig, ephemeral: in.EphemeralStorage,
	})
	var envErr error
	if in.Environment != nil {
		envErr = checkEnv(&v, in.Environment.Variables)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if envErr != nil {
		return nil, envErr
	}
	if in.Runtime != "" {
		if err := runnable(in.Runtime); err != nil {
			return nil, err
		}
	}
	if err := unsupported(false, in.Layers, in.VpcConfig, in.FileSystemConfigs, in.DeadLetterConfig, nil, in.ImageConfig, in.CapacityProviderConfig, in.DurableConfig, in.SnapStart); err != nil {
		return nil, err
	}
	t, err := s.resolve(api.Region(ctx), in.FunctionName, nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	fn := s.lookup(t.region, t.name)
	if fn == nil {
		s.mu.Unlock()
		return nil, notFound(s.functionARN(t.region, t.name))
	}
	if err := checkUpdatable(fn, in.RevisionId); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	next := *fn.cfg
	next.revision, next.lastModified = s.newID(), s.clock.Now()
	if in.Runtime != "" {
		next.runtime = in.Runtime
	}
	if in.Handler != nil {
		next.handler = *in.Handler
	}
	if in.Role != nil {
		next.role = *in.Role
	}
	if in.Description != nil {
		next.description = *in.Description
	}
	if in.Timeout != nil {
		next.timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		next.memory = *in.MemorySize
	}
	if in.Environment != nil {
		next.env = maps.Clone(in.Environment.Variables)
	}
	if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
		next.tracing = in.TracingConfig.Mode
	}
	stale := s.applyUpdate(fn, &next)
	out := &lambda.UpdateFunctionConfigurationOutput{}
	copyFields(out, fn.configuration())
	s.mu.Unlock()
	for _, e := range stale {
		e.destroy()
	}
	return out, nil
}

// PutFunctionEventInvokeConfig sets how asynchronous invocations of a
// function are retried: MaximumRetryAttempts (0-2, default 2) and
// MaximumEventAgeInSeconds (60-21600, default 21600). Destinations are not
// modelled and are refused. Errors: ValidationException,
// ResourceNotFoundException, InvalidParameterValueException.
func (s *Service) PutFunctionEventInvokeConfig(ctx context.Context, in *lambda.PutFunctionEventInvokeConfigInput, _ ...func(*lambda.Options)) (*lambda.PutFunctionEventInvokeConfigOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	var v violations
	v.intRange(in.MaximumRetryAttempts, "maximumRetryAttempts", 0, maxRetryAttempts)
	v.intRange(in.MaximumEventAgeInSeconds, "maximumEventAgeInSeconds", minEventAge, maxEventAge)
	if err := v.err(); err != nil {
		return nil, err
	}
	if d := in.DestinationConfig; d != nil && ((d.OnSuccess != nil && d.OnSuccess.Destination != nil) || (d.OnFailure != nil && d.OnFailure.Destination != nil)) {
		return nil, invalidParameter("The local cloud does not support DestinationConfig.")
	}
	t, err := s.resolve(region, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	fn := s.lookup(t.region, t.name)
	if fn == nil {
		return nil, notFound(s.functionARN(t.region, t.name))
	}
	// Put replaces the whole configuration: an omitted member takes its
	// default.
	c := &eventInvokeConfig{maxRetries: maxRetryAttempts, maxAge: maxEventAge, lastModified: s.clock.Now()}
	if in.MaximumRetryAttempts != nil {
		c.maxRetries = *in.MaximumRetryAttempts
	}
	if in.MaximumEventAgeInSeconds != nil {
		c.maxAge = *in.MaximumEventAgeInSeconds
	}
	fn.invokeConfig = c
	return &lambda.PutFunctionEventInvokeConfigOutput{
		FunctionArn:              aws.String(fn.arn + ":$LATEST"),
		LastModified:             aws.Time(c.lastModified),
		MaximumRetryAttempts:     aws.Int32(c.maxRetries),
		MaximumEventAgeInSeconds: aws.Int32(c.maxAge),
		DestinationConfig:        &types.DestinationConfig{OnSuccess: &types.OnSuccess{}, OnFailure: &types.OnFailure{}},
	}, nil
}

// GetFunctionEventInvokeConfig returns the asynchronous invocation settings
// set with PutFunctionEventInvokeConfig. Errors: ResourceNotFoundException,
// also when none were set.
func (s *Service) GetFunctionEventInvokeConfig(ctx context.Context, in *lambda.GetFunctionEventInvokeConfigInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionEventInvokeConfigOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	t, err := s.resolve(region, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	fn := s.lookup(t.region, t.name)
	if fn == nil {
		return nil, notFound(s.functionARN(t.region, t.name))
	}
	c := fn.invokeConfig
	if c == nil {
		return nil, api.Errorf(http.StatusNotFound, "ResourceNotFoundException", "The function %s doesn't have an EventInvokeConfig", fn.arn+":$LATEST")
	}
	return &lambda.GetFunctionEventInvokeConfigOutput{
		FunctionArn:              aws.String(fn.arn + ":$LATEST"),
		LastModified:             aws.Time(c.lastModified),
		MaximumRetryAttempts:     aws.Int32(c.maxRetries),
		MaximumEventAgeInSeconds: aws.Int32(c.maxAge),
		DestinationConfig:        &types.DestinationConfig{OnSuccess: &types.OnSuccess{}, OnFailure: &types.OnFailure{}},
	}, nil
}

// retryPolicy returns the function's asynchronous retry settings; callers
// hold s.mu.
func (fn *function) retryPolicy() (retries int, maxAge time.Duration) {
	if c := fn.invokeConfig; c != nil {
		return int(c.maxRetries), time.Duration(c.maxAge) * time.Second
	}
	return maxRetryAttempts, maxEventAge * time.Second
}
