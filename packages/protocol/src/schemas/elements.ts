import * as v from 'valibot';
import { FiniteNumberSchema, IntSchema, NonNegativeIntSchema, Uint32Schema, UnixSecondsSchema } from './scalars.js';

// Objects are loose everywhere: Tencent adds fields over time and a body we reject is lost for good.
// Fields that old SDKs omit (see the spec, §7) are optional; the rest are required with their types.

const TextContent = v.looseObject({ Text: v.string() });

const LocationContent = v.looseObject({
  Desc: v.string(),
  Latitude: FiniteNumberSchema,
  Longitude: FiniteNumberSchema,
});

const FaceContent = v.looseObject({ Index: IntSchema, Data: v.string() });

// At most one custom element per message; every field is app-defined text and may be left out.
const CustomContent = v.looseObject({
  Data: v.optional(v.string()),
  Desc: v.optional(v.string()),
  Ext: v.optional(v.string()),
  Sound: v.optional(v.string()),
});

// SDK 2.x/3.x send only UUID, Size and Second.
const SoundContent = v.looseObject({
  Url: v.optional(v.string()),
  UUID: v.string(),
  Size: NonNegativeIntSchema,
  Second: NonNegativeIntSchema,
  Download_Flag: v.optional(IntSchema),
});

const ImageInfo = v.looseObject({
  Type: IntSchema,
  Size: NonNegativeIntSchema,
  Width: NonNegativeIntSchema,
  Height: NonNegativeIntSchema,
  URL: v.string(),
});

const ImageContent = v.looseObject({
  UUID: v.string(),
  ImageFormat: IntSchema,
  ImageInfoArray: v.array(ImageInfo),
});

// Legacy file elements carry no Url or Download_Flag.
const FileContent = v.looseObject({
  Url: v.optional(v.string()),
  UUID: v.string(),
  FileSize: NonNegativeIntSchema,
  FileName: v.string(),
  Download_Flag: v.optional(IntSchema),
});

const VideoContent = v.looseObject({
  VideoUrl: v.optional(v.string()),
  VideoUUID: v.string(),
  VideoSize: NonNegativeIntSchema,
  VideoSecond: NonNegativeIntSchema,
  VideoFormat: v.string(),
  VideoDownloadFlag: v.optional(IntSchema),
  ThumbUrl: v.optional(v.string()),
  ThumbUUID: v.string(),
  ThumbSize: NonNegativeIntSchema,
  ThumbWidth: NonNegativeIntSchema,
  ThumbHeight: NonNegativeIntSchema,
  ThumbFormat: v.string(),
  ThumbDownloadFlag: v.optional(IntSchema),
});

/** Names of the element types the spec documents; any other `MsgType` is kept as it came. */
export const KNOWN_ELEMENT_TYPES = [
  'TIMTextElem',
  'TIMLocationElem',
  'TIMFaceElem',
  'TIMCustomElem',
  'TIMSoundElem',
  'TIMImageElem',
  'TIMFileElem',
  'TIMVideoFileElem',
  'TIMRelayElem',
] as const;

const knownTypes: ReadonlySet<string> = new Set(KNOWN_ELEMENT_TYPES);

const element = <TType extends string, TContent extends v.GenericSchema>(type: TType, content: TContent) =>
  v.looseObject({ MsgType: v.literal(type), MsgContent: content });

// A forwarded message inside a relay element; its MsgBody nests elements again.
const RelayedMessage = v.looseObject({
  From_Account: v.string(),
  To_Account: v.optional(v.string()),
  GroupId: v.optional(v.string()),
  MsgSeq: Uint32Schema,
  MsgRandom: Uint32Schema,
  MsgTimeStamp: UnixSecondsSchema,
  MsgBody: v.array(v.lazy(() => MsgElementSchema)),
  CloudCustomData: v.optional(v.string()),
});

// History up to 12 KB comes inline as MsgList; longer history only as a JsonMsgKey to fetch.
const RelayContent = v.pipe(
  v.looseObject({
    Title: v.string(),
    MsgNum: NonNegativeIntSchema,
    CompatibleText: v.string(),
    AbstractList: v.array(v.string()),
    MsgList: v.optional(v.array(RelayedMessage)),
    JsonMsgKey: v.optional(v.string()),
  }),
  v.check(
    (content) => content.MsgList !== undefined || content.JsonMsgKey !== undefined,
    'TIMRelayElem needs MsgList or JsonMsgKey',
  ),
);

const UnknownElement = v.looseObject({
  MsgType: v.pipe(
    v.string('must be a string'),
    v.check((type) => !knownTypes.has(type)),
  ),
  // Kept as it came, whatever it holds, even nothing: Tencent's newer types are not ours to judge.
  MsgContent: v.optional(v.unknown()),
});

export const MsgElementSchema: v.GenericSchema<unknown, MsgElement> = v.variant(
  'MsgType',
  [
    element('TIMTextElem', TextContent),
    element('TIMLocationElem', LocationContent),
    element('TIMFaceElem', FaceContent),
    element('TIMCustomElem', CustomContent),
    element('TIMSoundElem', SoundContent),
    element('TIMImageElem', ImageContent),
    element('TIMFileElem', FileContent),
    element('TIMVideoFileElem', VideoContent),
    element('TIMRelayElem', RelayContent),
    UnknownElement,
  ],
  'must be an element object with a MsgType string',
);

export interface MsgElement {
  MsgType: string;
  MsgContent?: unknown;
  [key: string]: unknown;
}
