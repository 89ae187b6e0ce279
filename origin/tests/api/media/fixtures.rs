//! Image bytes for the upload tests, built with `image` rather than pasted in: a JPEG carrying a GPS EXIF
//! block, images of each accepted format, broken and lying files. The uploads themselves are the test kit's
//! typed calls (`tweet_photos`, `put_avatar`, `fetch_media`).

use std::io::Cursor;

use image::{codecs::gif::GifEncoder, DynamicImage, Frame, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

/// The camera serial in the EXIF block of [`jpeg_with_gps_exif`]: no stored file may contain it.
pub const CAMERA_SERIAL: &[u8] = b"ROOKERY-CAMERA-SN-4711";
/// The GPS latitude of that block (48° 51' 29.31"), as its three big-endian RATIONALs.
pub const LATITUDE: [u8; 24] = [0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 0x0B, 0x73, 0, 0, 0, 100];

/// An RGB picture with enough detail to survive lossy encoding recognisably.
pub fn photo(width: u32, height: u32) -> DynamicImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x + y) % 7 * 30) as u8])
    })
    .into()
}

/// A picture with transparency and few colours (a GIF keeps every one of them).
pub fn graphic(width: u32, height: u32) -> DynamicImage {
    RgbaImage::from_fn(width, height, |x, y| match (x / 4 + y / 4) % 3 {
        0 => Rgba([200, 30, 30, 255]),
        1 => Rgba([20, 120, 220, 255]),
        _ => Rgba([0, 0, 0, 0]),
    })
    .into()
}

pub fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let image = match format {
        ImageFormat::Jpeg => DynamicImage::from(image.to_rgb8()),
        _ => image.clone(),
    };
    image.write_to(&mut out, format).expect("encodes");
    out.into_inner()
}

/// A JPEG of `width`×`height` whose first segment, right after SOI, is an APP1 `Exif\0\0` block: IFD0
/// with a camera serial and a GPS IFD (latitude and longitude of Paris).
pub fn jpeg_with_gps_exif(width: u32, height: u32) -> Vec<u8> {
    let jpeg = encode(&photo(width, height), ImageFormat::Jpeg);
    let tiff = exif_tiff();
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend(u16::try_from(2 + 6 + tiff.len()).expect("a short segment").to_be_bytes());
    app1.extend(b"Exif\0\0");
    app1.extend(tiff);
    let spliced = [&jpeg[..2], &app1, &jpeg[2..]].concat();
    assert!(contains(&spliced, CAMERA_SERIAL) && contains(&spliced, &LATITUDE) && contains(&spliced, b"Exif\0\0"));
    spliced
}

/// One IFD entry: tag, type (2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL), count, value bytes.
type Entry = (u16, u16, u32, Vec<u8>);

/// A big-endian TIFF structure: IFD0 (Make, camera serial, GPS pointer) and the GPS IFD.
fn exif_tiff() -> Vec<u8> {
    let ascii = |tag: u16, text: &[u8]| -> Entry { (tag, 2, text.len() as u32 + 1, [text, b"\0"].concat()) };
    let ifd0 = |gps_offset: u32| -> Vec<Entry> {
        vec![
            ascii(0x010F, b"Rookery"),                         // Make
            ascii(0xC62F, CAMERA_SERIAL),                      // CameraSerialNumber
            (0x8825, 4, 1, gps_offset.to_be_bytes().to_vec()), // GPSInfo
        ]
    };
    let longitude: Vec<u8> = [2u32, 1, 21, 1, 1059, 100].iter().flat_map(|n| n.to_be_bytes()).collect();
    let gps = vec![
        ascii(0x0001, b"N"), // GPSLatitudeRef
        (0x0002, 5, 3, LATITUDE.to_vec()),
        ascii(0x0003, b"E"), // GPSLongitudeRef
        (0x0004, 5, 3, longitude),
    ];
    let first_len = ifd(8, &ifd0(0)).len() as u32;
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend(ifd(8, &ifd0(8 + first_len)));
    tiff.extend(ifd(8 + first_len, &gps));
    tiff
}

/// An IFD placed at `offset`, followed by the values that do not fit in an entry.
fn ifd(offset: u32, entries: &[Entry]) -> Vec<u8> {
    let mut out = (entries.len() as u16).to_be_bytes().to_vec();
    let mut data_at = offset + 2 + 12 * entries.len() as u32 + 4;
    let mut data = Vec::new();
    for (tag, kind, count, value) in entries {
        out.extend(tag.to_be_bytes());
        out.extend(kind.to_be_bytes());
        out.extend(count.to_be_bytes());
        if value.len() <= 4 {
            let mut inline = value.clone();
            inline.resize(4, 0);
            out.extend(inline);
        } else {
            out.extend(data_at.to_be_bytes());
            let mut value = value.clone();
            if value.len() % 2 == 1 {
                value.push(0);
            }
            data_at += value.len() as u32;
            data.extend(value);
        }
    }
    out.extend(0u32.to_be_bytes());
    out.extend(data);
    out
}

/// A two-frame animated GIF: a red frame, then a blue one.
pub fn animated_gif(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        for colour in [Rgba([255, 0, 0, 255]), Rgba([0, 0, 255, 255])] {
            encoder.encode_frame(Frame::new(RgbaImage::from_pixel(width, height, colour))).expect("a frame");
        }
    }
    out
}

/// A PNG header claiming `width`×`height` (8-bit RGBA), with correct CRCs and a token IDAT.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let idat = png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    [b"\x89PNG\r\n\x1a\n".as_slice(), &png_chunk(b"IHDR", &ihdr), &idat, &png_chunk(b"IEND", &[])].concat()
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend(kind);
    chunk.extend(data);
    chunk.extend(crc32(&chunk[4..]).to_be_bytes());
    chunk
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// The marker bytes of a JPEG's segments up to the start of scan (`0xE1` is APP1, where EXIF and XMP
/// live; `0xE2` APP2, ICC; `0xFE` a comment).
pub fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "no SOI");
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        at += 2 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
    }
    markers
}

/// The format, dimensions and pixels of served bytes, which must decode.
pub fn decode(bytes: &[u8]) -> (ImageFormat, DynamicImage) {
    let format = image::guess_format(bytes).expect("a known format");
    (format, image::load_from_memory_with_format(bytes, format).expect("decodes"))
}
