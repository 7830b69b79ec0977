import { BOT_ID } from '../sandbox-state.js';
import { type MethodFactory, ok, stringParam } from './api-method.js';

export const authMethods: MethodFactory = (state) => ({
  'auth.test': {
    requiresToken: true,
    handle: ({ teamId }) => {
      const team = state.teamFor(teamId);
      return ok({
        url: 'https://sandbox.slack.com/',
        team: team.name,
        user: 'relay-bot',
        team_id: team.id,
        user_id: state.botUserId,
        bot_id: BOT_ID,
        is_enterprise_install: false,
      });
    },
  },

  // Apps revoke their own token on uninstall; `test=true` only reports what would happen.
  'auth.revoke': {
    requiresToken: true,
    handle: ({ params, token }) => {
      const dryRun = stringParam(params, 'test') === 'true' || stringParam(params, 'test') === '1';
      if (!dryRun && token) state.tokens.revoke(token);
      return ok({ revoked: !dryRun });
    },
  },
});
