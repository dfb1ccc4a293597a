#!/usr/bin/env node
// The compiled program lives in dist/ (npm run build); this file exists before any build so that
// npm can link the `carcosa` bin at install time.
import { main } from '../dist/program.js'

process.exitCode = await main(process.argv.slice(2))
