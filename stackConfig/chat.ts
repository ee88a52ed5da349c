import { checkChatChannels, type ChatChannelsConfig, hasChatChannels } from "../components/chatChannels";
import { shown } from "../functions/shared/values";
import { type ConfigReader, firstProblemThrows, PROJECT, StackConfigError } from "./reader";

/**
 * `cloudtrail-alerts:chat`: `{ slack: [{ teamId, channelId }], teams: [{ teamId, channelId, tenantId }] }`, checked by
 * the ChatChannels component's own rules; the first problem is one line naming the full path, e.g.
 * `cloudtrail-alerts:chat.slack[0].channelId`. Undefined (no chat, the default) when no channel is named.
 */
export function readChat(read: ConfigReader): ChatChannelsConfig | undefined {
  const key = `${PROJECT}:chat`;
  const value = read.json(key, {});
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StackConfigError(key, `${key} must be an object { slack: [{ teamId, channelId }], teams: [{ teamId, channelId, tenantId }] }, got ${shown(value)}`);
  }
  checkChatChannels(value as Record<string, unknown>, firstProblemThrows(key));
  const config = value as ChatChannelsConfig;
  return hasChatChannels(config) ? config : undefined;
}
