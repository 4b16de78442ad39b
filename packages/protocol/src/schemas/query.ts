import * as v from 'valibot';

/**
 * Query parameters the IM backend appends to the callback URL (spec §1). Only the routing
 * fields are required; `Sign`/`RequestTime` are required by the signature check when a token is set.
 */
export const CallbackQuerySchema = v.looseObject({
  SdkAppid: v.string(),
  CallbackCommand: v.string(),
  contenttype: v.optional(v.string()),
  ClientIP: v.optional(v.string()),
  OptPlatform: v.optional(v.string()),
  Sign: v.optional(v.string()),
  RequestTime: v.optional(v.string()),
});

export type CallbackQuery = v.InferOutput<typeof CallbackQuerySchema>;
