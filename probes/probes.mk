# Probe build rules (owned by the native target work): builds probes/build/probe-<abi>.
probes:
	@true
