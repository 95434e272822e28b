// Package deploy holds the validation tests of the deployment files: the root
// Dockerfile and .dockerignore, docker-compose.yaml (loaded with compose-go,
// since no Docker engine is at hand), everything under provisioning/ (the
// datasources, the default catalog, the dashboard and the alert rules, whose
// queries are run through the plugin against the fake GitHub and Helm
// servers), and the GitHub request budget of the default catalog.
package deploy
