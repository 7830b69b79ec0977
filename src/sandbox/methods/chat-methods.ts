import { BOT_ID, type SandboxState } from '../sandbox-state.js';
import { fail, type MethodFactory, ok, rateLimited, stringParam } from './api-method.js';

const MAX_TEXT_LENGTH = 40_000;
const MAX_BLOCKS = 50;

export const chatMethods: MethodFactory = (state) => ({
  'chat.postMessage': {
    requiresToken: true,
    handle: ({ params, token, teamId }) => {
      const dm = resolveDm(state, stringParam(params, 'channel'));
      if (!dm) return fail('channel_not_found');

      const text = stringParam(params, 'text') ?? '';
      if (text.length > MAX_TEXT_LENGTH) return fail('msg_too_long');
      const blocks = parseBlocks(params.blocks);
      if (blocks === 'invalid') return fail('invalid_blocks');
      if (text === '' && (blocks === null || blocks.length === 0)) return fail('no_text');

      // Checked last: only posts that would really land in the channel count against its limit.
      const retryAfter = state.rateLimiter?.acquire(dm.channel) ?? null;
      if (retryAfter !== null) return rateLimited(retryAfter);

      const at = Date.now();
      const ts = state.tsClock.next(at);
      state.messages.add({ channel: dm.channel, user: dm.user, text, blocks, ts, token, at });
      return ok({
        channel: dm.channel,
        ts,
        message: {
          type: 'message',
          text,
          user: state.botUserId,
          bot_id: BOT_ID,
          team: state.teamFor(teamId).id,
          ts,
          ...(blocks ? { blocks } : {}),
        },
      });
    },
  },
});

/**
 * Slack accepts an opened DM channel id, or a user id (the message then goes
 * to the bot's DM with that user). Deactivated users' DMs still accept posts,
 * as on Slack.
 */
function resolveDm(state: SandboxState, channel: string | undefined): { channel: string; user: string } | null {
  if (!channel) return null;
  const member = state.dms.memberOf(channel);
  if (member) return { channel, user: member };
  if (state.users.get(channel)) return { channel: state.dms.open(channel), user: channel };
  return null;
}

/** Blocks arrive JSON-encoded in form bodies and as arrays in JSON bodies. */
function parseBlocks(raw: unknown): unknown[] | null | 'invalid' {
  if (raw === undefined || raw === '') return null;
  let blocks: unknown = raw;
  if (typeof raw === 'string') {
    try {
      blocks = JSON.parse(raw);
    } catch {
      return 'invalid';
    }
  }
  if (!Array.isArray(blocks) || blocks.length > MAX_BLOCKS) return 'invalid';
  const wellFormed = blocks.every(
    (block) => typeof block === 'object' && block !== null && typeof (block as { type?: unknown }).type === 'string',
  );
  return wellFormed ? blocks : 'invalid';
}
