// The Slack sandbox: a local Slack Web API stand-in for tests, the demo and benchmarks.
// It depends on nothing outside src/sandbox/ except npm packages.
export { createSlackSandbox, SlackSandbox } from './slack-sandbox.js';
export type {
  SandboxCall,
  SandboxFault,
  SandboxMessage,
  SandboxMessageFilter,
  SandboxMessageMetadata,
  SandboxMessageVersion,
  SandboxOAuthOptions,
  SandboxTeam,
  SandboxUser,
  SlackSandboxOptions,
} from './types.js';
