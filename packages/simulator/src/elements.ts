import type { Random } from './random.js';

// Realistic MsgBody elements of every type the spec documents (§7), as the IM backend sends them.

const COS = 'https://5e1c-1600012345-1318804422.cos.ap-singapore.myqcloud.com';

const TEXTS = [
  'Standup moved to 10:30, room B.',
  '收到，马上处理 👍',
  'Can someone review PR #482 before lunch?',
  'مرحبا بالجميع',
  '오늘 회의는 취소되었습니다',
  'Deploy finished ✅\nAll checks green.',
  'Who has the Q3 numbers?\tI need them by 5pm.',
  '👨‍👩‍👧‍👦 family photo day 🇸🇬',
];

type Element = { MsgType: string; MsgContent: Record<string, unknown> };

export const ELEMENT_BUILDERS: Record<string, (random: Random) => Element> = {
  TIMTextElem: (r) => ({ MsgType: 'TIMTextElem', MsgContent: { Text: r.pick(TEXTS) } }),
  TIMLocationElem: (r) => ({
    MsgType: 'TIMLocationElem',
    MsgContent: {
      Desc: 'Hall 3, Marina Bay Sands Expo',
      Latitude: 1.28 + r.next() / 100,
      Longitude: 103.86 + r.next() / 100,
    },
  }),
  TIMFaceElem: (r) => ({ MsgType: 'TIMFaceElem', MsgContent: { Index: r.int(0, 120), Data: '[thumbs_up]' } }),
  TIMCustomElem: (r) => ({
    MsgType: 'TIMCustomElem',
    MsgContent: {
      Data: JSON.stringify({ businessID: 'order_card', orderNo: `SO-2026-${r.int(100000, 999999)}`, amount: '129.90' }),
      Desc: '[Order card]',
      Ext: '{"route":"orders"}',
      Sound: '',
    },
  }),
  TIMSoundElem: (r) => {
    const uuid = r.hex(32);
    return {
      MsgType: 'TIMSoundElem',
      MsgContent: {
        Url: `${COS}/voice/${uuid}.m4a`,
        UUID: uuid,
        Size: r.int(2000, 400000),
        Second: r.int(1, 60),
        Download_Flag: 2,
      },
    };
  },
  TIMImageElem: (r) => {
    const uuid = r.hex(32).toUpperCase();
    const size = (type: number, width: number, height: number) => ({
      Type: type,
      Size: Math.round((width * height) / 6),
      Width: width,
      Height: height,
      URL: `${COS}/img/${uuid}/${type === 1 ? 0 : width}`,
    });
    return {
      MsgType: 'TIMImageElem',
      MsgContent: {
        UUID: `1600012345_${uuid}`,
        ImageFormat: r.pick([1, 2, 3]),
        ImageInfoArray: [size(1, 3024, 4032), size(2, 1080, 1440), size(3, 198, 264)],
      },
    };
  },
  TIMFileElem: (r) => {
    const uuid = r.hex(32);
    return {
      MsgType: 'TIMFileElem',
      MsgContent: {
        Url: `${COS}/file/${uuid}`,
        UUID: uuid,
        FileSize: r.int(1000, 9_000_000),
        FileName: 'Q1-roadmap v3 (final).pdf',
        Download_Flag: 2,
      },
    };
  },
  TIMVideoFileElem: (r) => {
    const video = r.hex(32);
    const thumb = r.hex(32);
    return {
      MsgType: 'TIMVideoFileElem',
      MsgContent: {
        VideoUrl: `${COS}/video/${video}.mp4`,
        VideoUUID: video,
        VideoSize: r.int(100_000, 50_000_000),
        VideoSecond: r.int(1, 300),
        VideoFormat: 'mp4',
        VideoDownloadFlag: 2,
        ThumbUrl: `${COS}/video/thumb/${thumb}.jpg`,
        ThumbUUID: thumb,
        ThumbSize: r.int(5000, 90000),
        ThumbWidth: 720,
        ThumbHeight: 1280,
        ThumbFormat: 'JPG',
        ThumbDownloadFlag: 2,
      },
    };
  },
  TIMRelayElem: (r) => ({
    MsgType: 'TIMRelayElem',
    MsgContent: {
      Title: 'Chat history of lin.wei and amara_k',
      MsgNum: 2,
      CompatibleText: 'Please upgrade to view forwarded chat history.',
      AbstractList: ['lin.wei: can you review the PR?', 'amara_k: on it'],
      MsgList: [
        {
          From_Account: 'lin.wei',
          To_Account: 'amara_k',
          MsgSeq: r.int(1, 10000),
          MsgRandom: r.uint32(),
          MsgTimeStamp: 1767579003,
          MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'can you review the PR?' } }],
        },
        {
          From_Account: 'amara_k',
          To_Account: 'lin.wei',
          MsgSeq: r.int(1, 10000),
          MsgRandom: r.uint32(),
          MsgTimeStamp: 1767579041,
          MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'on it' } }],
        },
      ],
    },
  }),
};

export const ELEMENT_TYPES = Object.keys(ELEMENT_BUILDERS);
