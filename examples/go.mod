module github.com/amihttp/amihttp/examples

go 1.26.0

require github.com/amihttp/amihttp v0.0.0

require (
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	golang.org/x/net v0.62.0 // indirect
)

replace github.com/amihttp/amihttp => ../
