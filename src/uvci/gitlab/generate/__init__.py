"""Writing uvci's pipeline: jobs, their shell lines, images, the build env, header, component."""
