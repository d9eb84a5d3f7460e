// Types of plain-plugin.mjs for the TypeScript benchmarks that import it.
import type { Plugin } from '@starling/actors';

export declare const plainEchoPlugin: Plugin;
