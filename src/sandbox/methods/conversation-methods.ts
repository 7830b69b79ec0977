import { fail, type MethodFactory, ok, stringParam } from './api-method.js';

export const conversationMethods: MethodFactory = (state) => ({
  // Only one-to-one DMs exist in the sandbox; group DMs (several users) are not modelled.
  'conversations.open': {
    requiresToken: true,
    handle: ({ params }) => {
      const channel = stringParam(params, 'channel');
      if (channel && !stringParam(params, 'users')) {
        return state.dms.memberOf(channel) ? ok({ no_op: true, already_open: true, channel: { id: channel } }) : fail('channel_not_found');
      }
      const ids = (stringParam(params, 'users') ?? '').split(',').map((id) => id.trim()).filter(Boolean);
      if (ids.length === 0) return fail('users_list_not_supplied');
      if (ids.length > 1) return fail('not_implemented');
      const userId = ids[0] as string;
      const user = state.users.get(userId);
      if (!user) return fail('user_not_found');
      if (user.deleted) return fail('user_disabled');
      const alreadyOpen = state.dms.has(userId);
      const id = state.dms.open(userId);
      return ok(alreadyOpen ? { no_op: true, already_open: true, channel: { id } } : { channel: { id } });
    },
  },
});
