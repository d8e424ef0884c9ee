module github.com/amihttp/amihttp

go 1.26
