"""Huawei Cloud's region names, in English and Simplified Chinese, as its console shows them.

A Region row names a region by its code (cn-north-4) and an optional display name chosen by
an administrator. Known Huawei codes are shown in the page's language from this table; any
other region shows its display name (or code) in every language.
"""

from __future__ import annotations

from django.utils.translation import get_language

# code: (English, Simplified Chinese)
HUAWEI_REGIONS: dict[str, tuple[str, str]] = {
    "cn-north-1": ("CN North-Beijing1", "华北-北京一"),
    "cn-north-2": ("CN North-Beijing2", "华北-北京二"),
    "cn-north-4": ("CN North-Beijing4", "华北-北京四"),
    "cn-north-9": ("CN North-Ulanqab1", "华北-乌兰察布一"),
    "cn-east-2": ("CN East-Shanghai2", "华东-上海二"),
    "cn-east-3": ("CN East-Shanghai1", "华东-上海一"),
    "cn-south-1": ("CN South-Guangzhou", "华南-广州"),
    "cn-south-2": ("CN South-Shenzhen", "华南-深圳"),
    "cn-south-4": ("CN South-Guangzhou-InvitationOnly", "华南-广州-友好用户环境"),
    "cn-southwest-2": ("CN Southwest-Guiyang1", "西南-贵阳一"),
    "ap-southeast-1": ("CN-Hong Kong", "中国-香港"),
    "ap-southeast-2": ("AP-Bangkok", "亚太-曼谷"),
    "ap-southeast-3": ("AP-Singapore", "亚太-新加坡"),
    "ap-southeast-4": ("AP-Jakarta", "亚太-雅加达"),
    "ap-southeast-5": ("AP-Manila", "亚太-马尼拉"),
    "af-south-1": ("AF-Johannesburg", "非洲-约翰内斯堡"),
    "af-north-1": ("AF-Cairo", "非洲-开罗"),
    "la-north-2": ("LA-Mexico City2", "拉美-墨西哥城二"),
    "na-mexico-1": ("LA-Mexico City1", "拉美-墨西哥城一"),
    "la-south-2": ("LA-Santiago", "拉美-圣地亚哥"),
    "sa-brazil-1": ("LA-Sao Paulo1", "拉美-圣保罗一"),
    "tr-west-1": ("TR-Istanbul", "土耳其-伊斯坦布尔"),
    "me-east-1": ("ME-Riyadh", "中东-利雅得"),
    "eu-west-101": ("EU-Dublin", "欧洲-都柏林"),
    "eu-west-0": ("EU-Paris", "欧洲-巴黎"),
    "ru-northwest-2": ("RU-Moscow2", "俄罗斯-莫斯科二"),
}


def region_label(code: str, display_name: str = "") -> str:
    """The region's name in the active language: Chinese for Huawei's known regions under
    zh-hans; otherwise the administrator's display name, else the code."""
    known = HUAWEI_REGIONS.get(code)
    if known and (get_language() or "").lower().startswith("zh"):
        return known[1]
    return display_name or (known[0] if known else code)
