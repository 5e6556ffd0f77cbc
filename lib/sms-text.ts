/** The GSM 03.38 basic character set: one septet each. */
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'
)
/** The GSM 03.38 extension table: an escape plus one septet, so two each. */
const GSM7_EXTENSION = new Set('^{}\\[~]|€\f')

export interface SmsLength {
  encoding: 'GSM-7' | 'UCS-2'
  /** Septets for GSM-7, UTF-16 code units for UCS-2: what the segment limits count. */
  units: number
  /** What one unsegmented SMS holds in this encoding: 160 septets or 70 UCS-2 characters. */
  singleSegmentLimit: number
}

/** How a text travels as SMS: GSM-7 when every character is in the GSM alphabet, UCS-2 otherwise. */
export function smsLength (text: string): SmsLength {
  let units = 0
  for (const character of text) {
    if (GSM7_BASIC.has(character)) units += 1
    else if (GSM7_EXTENSION.has(character)) units += 2
    else return { encoding: 'UCS-2', units: text.length, singleSegmentLimit: 70 }
  }
  return { encoding: 'GSM-7', units, singleSegmentLimit: 160 }
}
