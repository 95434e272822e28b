/**
 * The example homelab catalog the config editor can insert: two community
 * charts and two vendor charts, each compared with the upstream's git tags.
 * Format: see pkg/catalog/catalog.go and the catalog section of the README.
 */
export const EXAMPLE_CATALOG = `# Lagwatch catalog: the services to watch, each with its upstream and its Helm chart.
services:
  - name: ollama
    maintainer: community
    upstream:
      repo: ollama/ollama
      source: tags
      tagPattern: '^v(\\d+\\.\\d+\\.\\d+)$'
    chart:
      repository: https://otwld.github.io/ollama-helm/
      name: ollama
      versionFrom: appVersion
  - name: chromadb
    maintainer: community
    upstream:
      repo: chroma-core/chroma
      source: tags
      tagPattern: '^(\\d+\\.\\d+\\.\\d+)$'
    chart:
      repository: https://amikos-tech.github.io/chromadb-chart/
      name: chromadb
      versionFrom: appVersion
  - name: vllm-stack
    maintainer: vendor
    upstream:
      repo: vllm-project/production-stack
      source: tags
      tagPattern: '^vllm-stack-(\\d+\\.\\d+\\.\\d+)$'
    chart:
      repository: https://vllm-project.github.io/production-stack
      name: vllm-stack
      versionFrom: version
  - name: gpu-operator
    maintainer: vendor
    upstream:
      repo: NVIDIA/gpu-operator
      source: tags
      tagPattern: '^v(\\d+\\.\\d+\\.\\d+)$'
    chart:
      repository: https://helm.ngc.nvidia.com/nvidia
      name: gpu-operator
      versionFrom: version
`;
