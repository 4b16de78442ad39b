import { GroupMessageSchema, messageIdentity, messageKey } from '@imsync/protocol';
import * as v from 'valibot';

/** The message key (job id) the receiver derives for a body; throws if the body is not valid. */
export function messageKeyOf(sdkAppId: string, text: string): string {
  return messageKey(messageIdentity(sdkAppId, v.parse(GroupMessageSchema, JSON.parse(text))));
}
