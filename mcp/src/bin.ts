#!/usr/bin/env node
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { SubscribeFlowClient } from '@subscribe-flow/sdk';
import { createMcpServer } from './server.ts';

// Configured by the environment, as MCP hosts launch servers: the key decides what the tools may do.
const apiKey = process.env.SUBSCRIBE_FLOW_API_KEY;
const baseUrl = process.env.SUBSCRIBE_FLOW_URL;
if (!apiKey || !baseUrl) {
  // stdout is the protocol channel; messages for people go to stderr.
  console.error('subscribe-flow-mcp needs SUBSCRIBE_FLOW_API_KEY and SUBSCRIBE_FLOW_URL');
  process.exit(2);
}

const server = createMcpServer(new SubscribeFlowClient({ apiKey, baseUrl }));
await server.connect(new StdioServerTransport());
