#!/usr/bin/env node
// The CLI of ros-multiarch-action (built by scripts/build.sh; see README "Run it locally").
import "./cli/index.js"
