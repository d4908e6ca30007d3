/**
 * Lambda entry point. Configuration and clients are built on the first invocation of a
 * container and reused while it stays warm.
 */
import { createHandler } from './create-handler.js';

export const handler = createHandler(process.env);
