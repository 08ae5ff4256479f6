package kernels

//go:generate sh -c "cd internal/asmgen && go run . -out ../../kernels_amd64.s -stubs ../../kernels_amd64_stubs.go -pkg kernels"
