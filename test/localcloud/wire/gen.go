package wire

//go:generate go run ./internal/gen -o names_gen.go -fakes fakes_gen_test.go
