"""MedAgentBench v1 and v2: FHIR agent tasks, tools, graders, baselines and the synthetic EHR."""
