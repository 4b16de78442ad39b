import { loadFixture } from '@imsync/fixtures';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { formatIssues } from './issues.js';
import { KNOWN_ELEMENT_TYPES } from './schemas/elements.js';
import { GroupMessageSchema } from './schemas/group-message.js';

type Content = Record<string, unknown>;

const base = loadFixture('text-public').body;

/** A valid body whose MsgBody is exactly the given elements. */
const bodyOf = (...elements: unknown[]) => ({ ...structuredClone(base), MsgBody: elements });

/** The MsgContent of the first element of a fixture, as a fresh copy to modify. */
function contentOf(fixture: string): Content {
  const [first] = loadFixture(fixture).body.MsgBody as { MsgContent: Content }[];
  if (!first) {
    throw new Error(`fixture ${fixture} has no element`);
  }
  return structuredClone(first.MsgContent);
}

function parse(input: unknown) {
  const result = v.safeParse(GroupMessageSchema, input);
  if (!result.success) {
    throw new Error(`expected a valid body, got: ${formatIssues(result.issues)}`);
  }
  return result.output;
}

function issues(input: unknown): { path: string | null; message: string }[] {
  const result = v.safeParse(GroupMessageSchema, input);
  return result.success ? [] : result.issues.map((issue) => ({ path: v.getDotPath(issue), message: issue.message }));
}

const paths = (input: unknown) => [...new Set(issues(input).map((issue) => issue.path))];

const valid: Record<(typeof KNOWN_ELEMENT_TYPES)[number], Content> = {
  TIMTextElem: contentOf('text-public'),
  TIMLocationElem: contentOf('location-meeting'),
  TIMFaceElem: contentOf('face-work'),
  TIMCustomElem: contentOf('custom-elem'),
  TIMSoundElem: contentOf('sound-work'),
  TIMImageElem: contentOf('image-community-topic'),
  TIMFileElem: contentOf('file-public'),
  TIMVideoFileElem: contentOf('video-avchatroom'),
  TIMRelayElem: contentOf('relay-merged'),
};

const firstImageInfo = (valid.TIMImageElem.ImageInfoArray as Content[])[0];
const firstRelayed = (valid.TIMRelayElem.MsgList as Content[])[0];
const at = (field: string) => `MsgBody.0.MsgContent.${field}`;

describe('known element types', () => {
  test('the list names exactly the nine types of spec §7', () => {
    const spec = [
      'TIMTextElem',
      'TIMLocationElem',
      'TIMFaceElem',
      'TIMCustomElem',
      'TIMSoundElem',
      'TIMImageElem',
      'TIMFileElem',
      'TIMVideoFileElem',
      'TIMRelayElem',
    ];
    expect([...KNOWN_ELEMENT_TYPES].sort()).toEqual(spec.sort());
  });

  // Each row changes one field of a valid content; the baseline check proves the change is the cause.
  test.each([
    ['TIMTextElem', { Text: 5 }, at('Text')],
    ['TIMLocationElem', { Latitude: '1' }, at('Latitude')],
    ['TIMLocationElem', { Longitude: Number.POSITIVE_INFINITY }, at('Longitude')], // JSON 1e999
    ['TIMFaceElem', { Index: '14' }, at('Index')],
    ['TIMFaceElem', { Index: 1.5 }, at('Index')],
    ['TIMCustomElem', { Data: 5 }, at('Data')],
    ['TIMSoundElem', { Size: '48233' }, at('Size')],
    ['TIMSoundElem', { Second: -1 }, at('Second')],
    ['TIMImageElem', { ImageInfoArray: [{ ...firstImageInfo, Width: 'x' }] }, at('ImageInfoArray.0.Width')],
    ['TIMImageElem', { ImageFormat: '3' }, at('ImageFormat')],
    ['TIMFileElem', { FileSize: '734003' }, at('FileSize')],
    ['TIMFileElem', { FileName: null }, at('FileName')],
    ['TIMVideoFileElem', { VideoSecond: '14' }, at('VideoSecond')],
    ['TIMVideoFileElem', { ThumbWidth: -720 }, at('ThumbWidth')],
    ['TIMRelayElem', { MsgList: [{ ...firstRelayed, MsgSeq: '5' }] }, at('MsgList.0.MsgSeq')],
    ['TIMRelayElem', { MsgNum: '2' }, at('MsgNum')],
  ] as const)('%s rejects %j at %s', (type, change, path) => {
    expect(paths(bodyOf({ MsgType: type, MsgContent: valid[type] }))).toEqual([]);
    expect(paths(bodyOf({ MsgType: type, MsgContent: { ...valid[type], ...change } }))).toEqual([path]);
  });

  test.each([
    ['TIMTextElem', 'Text'],
    ['TIMLocationElem', 'Desc'],
    ['TIMFaceElem', 'Index'],
    ['TIMSoundElem', 'UUID'],
    ['TIMImageElem', 'ImageInfoArray'],
    ['TIMFileElem', 'FileName'],
    ['TIMVideoFileElem', 'VideoUUID'],
    ['TIMRelayElem', 'Title'],
  ] as const)('%s rejects a content without %s', (type, field) => {
    const content = { ...valid[type] };
    delete content[field];
    expect(paths(bodyOf({ MsgType: type, MsgContent: content }))).toEqual([at(field)]);
  });

  test('a known type without MsgContent is rejected', () => {
    expect(paths(bodyOf({ MsgType: 'TIMTextElem' }))).toEqual(['MsgBody.0.MsgContent']);
  });

  test('a bad element is reported at its own index', () => {
    const good = { MsgType: 'TIMTextElem', MsgContent: { Text: 'a' } };
    expect(paths(bodyOf(good, good, { MsgType: 'TIMTextElem', MsgContent: { Text: 1 } }))).toEqual([
      'MsgBody.2.MsgContent.Text',
    ]);
  });
});

describe('TIMRelayElem', () => {
  test('needs MsgList or JsonMsgKey', () => {
    const { MsgList: _dropped, ...content } = valid.TIMRelayElem;
    const found = issues(bodyOf({ MsgType: 'TIMRelayElem', MsgContent: content }));
    expect(found).toEqual([{ path: 'MsgBody.0.MsgContent', message: 'TIMRelayElem needs MsgList or JsonMsgKey' }]);
  });

  test('accepts JsonMsgKey alone (history over 12 KB)', () => {
    const { MsgList: _dropped, ...content } = valid.TIMRelayElem;
    expect(paths(bodyOf({ MsgType: 'TIMRelayElem', MsgContent: { ...content, JsonMsgKey: 'k' } }))).toEqual([]);
  });

  test('validates the elements nested in a forwarded message', () => {
    const relayed = { ...firstRelayed, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 5 } }] };
    const body = bodyOf({ MsgType: 'TIMRelayElem', MsgContent: { ...valid.TIMRelayElem, MsgList: [relayed] } });
    expect(paths(body)).toEqual([at('MsgList.0.MsgBody.0.MsgContent.Text')]);
  });

  test.each([
    ['MsgRandom', 4294967296],
    ['MsgTimeStamp', '1767579003'],
    ['From_Account', 1],
  ])('rejects a forwarded message with %s = %o', (field, value) => {
    const relayed = { ...firstRelayed, [field]: value };
    const body = bodyOf({ MsgType: 'TIMRelayElem', MsgContent: { ...valid.TIMRelayElem, MsgList: [relayed] } });
    expect(paths(body)).toEqual([at(`MsgList.0.${field}`)]);
  });
});

describe('legacy shapes', () => {
  test('a sound element with only UUID, Size and Second (SDK 2.x/3.x)', () => {
    const content = { UUID: 'u-1', Size: 20410, Second: 3 };
    const output = parse(bodyOf({ MsgType: 'TIMSoundElem', MsgContent: content }));
    expect(output.MsgBody).toEqual([{ MsgType: 'TIMSoundElem', MsgContent: content }]);
  });

  test('a file element without Url or Download_Flag', () => {
    const content = { UUID: 'f-1', FileSize: 734003, FileName: 'a b (1).pdf' };
    const output = parse(bodyOf({ MsgType: 'TIMFileElem', MsgContent: content }));
    expect(output.MsgBody).toEqual([{ MsgType: 'TIMFileElem', MsgContent: content }]);
  });

  test('a custom element with no fields at all', () => {
    expect(paths(bodyOf({ MsgType: 'TIMCustomElem', MsgContent: {} }))).toEqual([]);
  });
});

describe('unknown element types are kept raw', () => {
  test('TIMStreamElem with arbitrary content comes out unchanged', () => {
    const element = {
      MsgType: 'TIMStreamElem',
      MsgContent: {
        Chunks: [{ EventType: 1, Index: 0, Markdown: '**hi**', IsLast: true }],
        CompatibleText: 'upgrade',
        StreamMsgID: 's-1',
      },
      Extra: 'kept',
    };
    const output = parse(bodyOf({ MsgType: 'TIMTextElem', MsgContent: { Text: 'a' } }, element));
    expect(output.MsgBody[1]).toEqual(element);
  });

  test('an unknown element without MsgContent is kept too', () => {
    expect(parse(bodyOf({ MsgType: 'TIMFutureElem' })).MsgBody).toEqual([{ MsgType: 'TIMFutureElem' }]);
  });

  test.each([5, 'text', null, [1, 2]])('any MsgContent value (%o) is accepted', (content) => {
    expect(parse(bodyOf({ MsgType: 'TIMFutureElem', MsgContent: content })).MsgBody).toEqual([
      { MsgType: 'TIMFutureElem', MsgContent: content },
    ]);
  });

  // Matching is exact: a near-miss of a known name is an unknown type, not a typo to validate.
  test('a near-miss of a known name is treated as unknown', () => {
    expect(paths(bodyOf({ MsgType: 'timtextelem', MsgContent: { Text: 5 } }))).toEqual([]);
  });

  test.each([
    [{ MsgType: 5, MsgContent: {} }, 'MsgBody.0.MsgType'],
    [{ MsgContent: {} }, 'MsgBody.0.MsgType'],
    ['TIMTextElem', 'MsgBody.0'],
  ])('rejects the malformed element %j at %s', (element, path) => {
    expect(paths(bodyOf(element))).toEqual([path]);
  });
});
