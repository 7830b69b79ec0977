import { fail, type MethodFactory, ok, stringParam } from './api-method.js';

const DEFAULT_PAGE_SIZE = 200;
const MAX_PAGE_SIZE = 1000;

export const userMethods: MethodFactory = (state) => ({
  'users.lookupByEmail': {
    requiresToken: true,
    handle: ({ params, teamId }) => {
      const email = stringParam(params, 'email');
      if (!email) return fail('invalid_arguments');
      const user = state.users.findByEmail(email);
      if (!user) return fail('users_not_found');
      return ok({ user: state.users.toSlack(user, state.teamFor(teamId).id) });
    },
  },

  'users.info': {
    requiresToken: true,
    handle: ({ params, teamId }) => {
      const user = state.users.get(stringParam(params, 'user') ?? '');
      if (!user) return fail('user_not_found');
      return ok({ user: state.users.toSlack(user, state.teamFor(teamId).id) });
    },
  },

  'users.list': {
    requiresToken: true,
    handle: ({ params, teamId }) => {
      const page = state.users.page(stringParam(params, 'cursor') || undefined, pageSize(stringParam(params, 'limit')));
      if (!page.ok) return fail(page.error);
      const team = state.teamFor(teamId).id;
      return ok({
        members: page.members.map((user) => state.users.toSlack(user, team)),
        response_metadata: { next_cursor: page.nextCursor },
      });
    },
  },
});

/** Slack treats a missing or zero limit as "its default" and caps large ones. */
function pageSize(raw: string | undefined): number {
  const limit = Number.parseInt(raw ?? '', 10);
  if (!Number.isFinite(limit) || limit <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(limit, MAX_PAGE_SIZE);
}
