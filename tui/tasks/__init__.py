"""The Tasks screen: pipeline-task models (NER, classification, detection...) on inputs."""
