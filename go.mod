module github.com/meshreach/meshreach

go 1.26.0
