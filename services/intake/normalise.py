"""The one form every classifier reads a grievance's text in (rules and model alike)."""

from __future__ import annotations

import unicodedata

# Traditional → simplified for characters that occur in workers' grievances.  Not a full
# converter: enough that a keyword written in simplified matches a traditional message.
_TRAD_PAIRS = (
    "讓让 進进 區区 門门 攔拦 樓楼 車车 輛辆 電电 動动 騎骑 遞递 員员 資资 "
    "錢钱 發发 給给 還还 賬账 帳帐 結结 費费 險险 醫医 療疗 養养 傷伤 災灾 "
    "難难 處处 辦办 問问 題题 應应 該该 們们 個个 這这 麼么 嗎吗 說说 話话 "
    "請请 謝谢 對对 從从 來来 時时 間间 後后 裡里 沒没 開开 關关 過过 議议 "
    "設设 備备 燈灯 損损 壞坏 壓压 爛烂 積积 廢废 棄弃 場场 髒脏 衛卫 亂乱 "
    "擋挡 擠挤 違违 規规 則则 罰罚 單单 號号 臺台 灣湾 幫帮 歲岁 婦妇 業业 "
    "勞劳 務务 錄录 權权 師师 訴诉 訟讼 會会 黨党 組组 織织 係系 轉转 遷迁 "
    "學学 兒儿 讀读 園园 課课 體体 檢检 診诊 藥药 頭头 暈晕 熱热 濟济 據据 "
    "圍围 牆墙 線线 纜缆 燒烧 煙烟 隱隐 慣惯 觸触 網网 絡络 貨货 運运 輸输 "
    "盜盗 賠赔 償偿 竊窃 丟丢 滅灭 寢寝 價价 貴贵 帶带 闆板 張张 長长 錯错 "
    "誤误 鐘钟 點点 數数 層层 級级 離离 職职 屆届 濕湿 寫写 語语 樣样 經经 "
    "驗验 聽听 見见 視视 覺觉 雙双 揀拣 訂订 遲迟 斷断 續续 況况 總总 邊边 "
    "溝沟 蓋盖 護护 欄栏 廁厕 橋桥 訊讯 標标 誌志 廣广 鄰邻 隊队 當当 機机 "
    "齊齐 週周 條条 歷历 準准 剛刚 豐丰 鬥斗 爭争 賣卖 買买 紅红 綠绿 領领 "
    "約约 軟软 為为 陽阳 塊块 滿满 聯联 氣气 認认 證证 緊紧 補补 貼贴 獎奖 "
    "懲惩 監监 雜杂 擾扰 餓饿 飯饭 飲饮 腳脚 鎖锁 窩窝 換换 鐵铁 環环 塵尘 "
    "淨净 潔洁 戶户 營营 駕驾 駛驶 繳缴 僱雇 產产 報报 顯显 傳传 紙纸 筆笔 "
    "團团 閘闸 攝摄 邏逻 輯辑 額额 稅税 趕赶 衝冲 撥拨 歡欢 戰战 殘残 齡龄 "
    "幣币 萬万 億亿 實实 際际 現现 "
)
_TO_SIMPLIFIED = str.maketrans({p[0]: p[1] for p in _TRAD_PAIRS.split()})


def normalise(text: str) -> str:
    """Return ``text`` in the form cues are matched against (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("\u2019", "'").replace("\u2018", "'").translate(_TO_SIMPLIFIED)
