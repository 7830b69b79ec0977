/**
 * The bot's direct-message channels, one per member. Ids are stable for the
 * sandbox's lifetime (Slack's are too) and readable: `D` + the user id without
 * its first letter, so U0ALICE talks in D0ALICE.
 */
export class DmChannels {
  private readonly channelByUser = new Map<string, string>();
  private readonly userByChannel = new Map<string, string>();

  has(userId: string): boolean {
    return this.channelByUser.has(userId);
  }

  /** Returns the DM channel id for the user, creating it on first use. */
  open(userId: string): string {
    const existing = this.channelByUser.get(userId);
    if (existing) return existing;
    let id = `D${userId.slice(1)}`;
    // U0X and W0X would both map to D0X; keep ids unique without losing readability.
    for (let n = 2; this.userByChannel.has(id); n++) id = `D${userId.slice(1)}${n}`;
    this.channelByUser.set(userId, id);
    this.userByChannel.set(id, userId);
    return id;
  }

  /** The member of an opened DM channel, if the id is one. */
  memberOf(channelId: string): string | undefined {
    return this.userByChannel.get(channelId);
  }
}
