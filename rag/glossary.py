"""A Korean-English glossary for matching a Korean question's words to English sentences.

No Korean-to-English translation model ships on PyPI, so a Korean question matched English text only
through the multilingual embedding and the Latin-letter words it happened to hold ("APEC", "HBM4"). The
answerer's word features (which question words a sentence holds, which are missing) then saw next to
nothing. This glossary is the classic dictionary-based way across languages: each Korean word of the
question adds its usual English renderings, so "루빈 칩은 어느 회사가 제조하나요?" also asks about
"chips", "company" and "manufacture".

It is hand-written for the domain partnerqa serves (technology and semiconductors, business and quarterly
filings, government and diplomacy, the verbs news uses for them, and the Hangul spellings of the companies and
product names of the field), not for particular questions. Keys
are matched inside the question's words, as Korean attaches particles to them ("회사가", "칩은"): longer
keys first, so "최고경영자" is a chief executive and not also "경영" inside it. One-syllable keys are
left out where they occur inside unrelated words.
"""

from __future__ import annotations

import re

_ENTRIES = """
장관 minister | 대통령 president | 최고경영자 chief executive CEO | 대표 chief representative head | 회장 chairman
총수 chairman head | 의장 chair | 사장 president | 창업자 founder | 설립자 founder | 연구원장 head research
원장 head | 책임자 head | 임원 executive | 최고재무책임자 chief financial officer CFO | 재무책임자 financial officer CFO | 경영진 executives | 교수 professor | 지도교수 advisor supervised
총리 prime minister | 대사 ambassador | 배우자 spouse wife husband | 부인 wife | 남편 husband | 직원 employees
엔지니어 engineers | 과학자 scientist | 천체물리학자 astrophysicist | 천문학자 astronomer | 연구자 researchers
연구진 researchers | 지도자 leader | 정상 leaders summit | 대표단 delegation
회사 company | 기업 company companies firms | 업체 company firm | 제조사 manufacturer | 정부 government
부처 ministry | 과학기술정보통신부 Ministry Science ICT | 과기정통부 Ministry Science ICT | 백악관 White House
연구소 institute lab research | 연구원 research institute researcher | 대학 university | 대학교 university
스타트업 startups | 재벌 conglomerates | 대기업 conglomerates | 통신사 telecom operator | 파운드리 foundry
위원회 commission committee | 법원 court | 유럽연합 European Union | 유럽 European Europe | 국회 National Assembly
한국 Korea Korean | 대한민국 Republic Korea | 미국 United States U.S. America American | 서울 Seoul | 경주 Gyeongju
중국 China Chinese | 일본 Japan | 대만 Taiwan | 타이베이 Taipei | 아일랜드 Ireland Irish | 수도 capital
반도체 semiconductors chips | 첨단 advanced | 그래픽처리장치 GPU | 메모리 memory | 아키텍처 architecture
마이크로아키텍처 microarchitecture | 플랫폼 platform | 공장 factory factories | 팩토리 factory
인공지능 artificial intelligence AI | 물리적 physical | 피지컬 physical | 로봇 robots robotics | 로보틱스 robotics
자율주행 autonomous driving | 데이터센터 data center | 슈퍼컴퓨터 supercomputer | 성능 performance
연산 computing compute | 컴퓨팅 computing | 공정 process | 나노 nm nanometer | 양산 mass production
생산 production produce | 제조 manufacture manufactured manufacturing | 설계 design designed | 출시 launch release
공개 unveiled announced revealed | 발표 announced announcement | 세대 generation | 후속 successor next
차세대 next generation successor | 다음 next successor | 이름 name named | 명명 named | 코어 cores | 랙 racks
전력 power | 와트 watts | 소프트웨어 software | 하드웨어 hardware | 네트워크 networks | 양자 quantum
원자력 nuclear | 잠수함 submarines | 조선 shipbuilding | 에너지 energy | 광물 minerals | 의약품 pharmaceuticals
바이오 biotechnology | 보안 security | 인프라 infrastructure | 클라우드 cloud | 통신 telecommunications
데이터 data | 모델 model models | 칩 chips chip | 프로세서 processor | 그래픽 graphics
협정 deal agreement | 양해각서 memorandum understanding MOU | 합의 agreement agreed | 약속 pledge promise committed
공약 pledge | 서명 signed | 체결 signed concluded | 협력 cooperation collaboration partnership
파트너십 partnership | 동맹 alliance | 투자 investment invest | 관세 tariffs | 무역 trade | 공급망 supply chain
공급 supply | 납품 delivery | 인도 delivery | 수출 exports | 수입 imports | 정상회담 summit | 회담 talks meeting
회의 meeting conference | 면담 meeting met | 만난 met meeting | 만나 met meeting | 방문 visit | 방한 visit Korea
국빈 state visit | 행사 event | 연구개발 R&D research development | 센터 center | 허브 hub | 거점 hub base
인재 talent | 표준 standards | 규제 regulation | 정책 policy | 전략 strategy strategic | 번영 prosperity
기술 technology | 과학 science | 산업 industry industrial | 경제 economic economy | 안보 security | 평화 peace
선거 election | 승리 victory | 일정 schedule | 의제 agenda | 과제 agenda tasks
매출 net sales revenue | 순매출 net sales | 매출액 net sales revenue | 수익 revenue income | 이익 profit income
순이익 net income profit | 영업이익 operating income profit | 영업이익률 operating margin | 매출총이익 gross margin | 이익률 margin | 비용 expenses costs
영업비용 operating expenses | 연구개발비 research development expense | 세금 tax taxes | 세율 tax rate
유효세율 effective tax rate | 배당금 dividend | 배당 dividend | 주당 per share | 주당순이익 earnings per share
희석 diluted | 주식 shares stock | 주가 shares share price stock | 종가 closed close | 마감 closed close | 실적 results earnings | 자사주 repurchase shares | 현금 cash | 현금성자산 cash equivalents
영업권 goodwill | 잉여현금흐름 free cash flow | 현금흐름 cash flow | 영업활동 operating activities
이자비용 interest expense | 이자 interest | 매출원가 cost of revenue sales | 판매관리비 selling general administrative
마케팅 marketing | 감가상각 depreciation amortization | 법인세 income tax taxes | 순손실 net loss
영업손실 loss from operations operating loss | 손실 loss | 미실현 unrealized | 조정 adjusted | 전환사채 convertible notes
만기 mature maturity | 부문 segment | 배달 delivery | 총자산 total assets | 자본 equity
부채 debt liabilities | 자산 assets | 분기 quarter quarterly | 회계연도 fiscal year | 연간 annual
보고서 report | 분기보고서 quarterly report 10-Q | 소송 lawsuit litigation proceedings | 판결 ruling decision
항소 appeal | 환율 currency exchange rates | 인플레이션 inflation | 금리 interest rates | 판매 sales sold
판매량 units sold | 매장 stores retail | 시가총액 market capitalization | 달러 dollars | 억 billion | 조 trillion
임명 appointed | 취임 sworn office | 선출 elected | 졸업 graduated | 학위 degree | 박사 Ph.D. doctorate
학사 bachelor | 석사 master | 논문 thesis dissertation | 근무 worked | 경력 career | 입사 joined | 첫 first
처음 first | 최초 first | 시작 began started | 설립 founded established | 이끌 led lead head | 이끈 led head
주도 led | 요청 asked requested | 요구 asked demanded | 지원 support | 확보 secure | 구축 build building
건설 build construction | 만들 build make | 사용 use uses using | 탑재 equipped uses | 들어가 uses includes
포함 includes including | 기반 based | 가속 accelerate | 성장 growth grow | 확대 expand expanded
개발 development developed | 연구 research | 계획 plan planned | 예정 scheduled expected | 목표 goal aim target
목적 purpose aim | 분야 areas sectors fields | 의료 healthcare | 제조업 manufacturing | 교육 education
어린이 children kids | 아동 children kids | 청소년 youth | 디지털 digital | 웰빙 wellbeing | 현재 current
이전 previous former predecessor | 나흘 four days | 기간 period | 고등학교 high school | 출생 born | 태어난 born
따온 named after | 참석 attended | 주최 hosted | 개최 held hosted | 규모 volume size
엔비디아 Nvidia | 삼성전자 Samsung Electronics | 삼성 Samsung | 하이닉스 hynix | 현대자동차 Hyundai Motor
현대차 Hyundai Motor | 현대 Hyundai | 네이버 Naver | 카카오 Kakao | 애플 Apple | 테슬라 Tesla | 인텔 Intel
마이크로소프트 Microsoft | 아마존 Amazon | 구글 Google | 메타 Meta | 오픈AI OpenAI | 퀄컴 Qualcomm | 소니 Sony
젠슨_황 Jensen Huang | 젠슨황 Jensen Huang | 젠슨 Jensen | 이재명 Lee Jae Myung | 트럼프 Trump | 호퍼 Hopper | 블랙웰 Blackwell | 루빈 Rubin | 베라 Vera
파인먼 Feynman | 그레이스 Grace | 컴퓨텍스 Computex | 에이펙 APEC
울트라 Ultra | 프로 Pro | 플러스 Plus | 맥스 Max | 미니 Mini | 아이폰 iPhone | 아이패드 iPad | 맥북 MacBook
"""


def _parse(text: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for entry in re.split(r"\s*[|\n]\s*", text):
        if entry.strip():
            korean, *english = entry.split()
            out[korean.replace("_", " ")] = tuple(english)  # "젠슨_황": a key of two words
    return out


GLOSSARY: dict[str, tuple[str, ...]] = _parse(_ENTRIES)
_KEYS = sorted(GLOSSARY, key=len, reverse=True)


def english_words(question: str) -> tuple[list[str], list[str]]:
    """The English renderings of the Korean words in `question`: (names, words). Names are the capitalised
    renderings (companies, products, places: "엔비디아" -> "Nvidia"), which a question names as an English one
    would; words are the rest, with their variants ("제조" -> "manufacture", "manufactured", ...), which can
    only add to what a sentence matches, since a sentence holds one variant at most. Longest keys are matched
    first, each part of the question used once ("최고경영자는" -> "chief executive CEO", not also "경영"); the
    renderings come in the question's order."""
    names: list[str] = []
    words: list[str] = []
    for key in _matched_keys(question):
        for w in GLOSSARY[key]:
            (names if w[0].isupper() else words).append(w)
    return names, words


def _matched_keys(question: str) -> list[str]:
    """The glossary keys `question` holds, in the question's order ("루빈 울트라" -> "Rubin Ultra", as an English
    question would name it), each part of the question used once: longer keys are matched first."""
    rest = question
    found: list[tuple[int, str]] = []
    for key in _KEYS:
        if key in rest:
            found.append((rest.index(key), key))
            rest = rest.replace(key, " " * len(key))
    found.sort()
    return [key for _, key in found]


_KO_COUNT_BEFORE = re.compile(r"([\uac00-\ud7a3]+)\s*몇\s*(?:개|대|명|곳|장|척|기|가지|종)?")
_KO_COUNT_AFTER = re.compile(r"몇\s*(?:개|대|명|곳|장|척|기|가지|종)의?\s+([\uac00-\ud7a3]+)")


def counted_noun(question: str) -> str:
    """What a Korean how-many question counts, in English: "칩은 몇 개인가요?" and "몇 개의 칩을" -> "chips" (the
    glossary's noun for the word next to 몇); "" when it asks no count or the word is not in the glossary."""
    for pattern in (_KO_COUNT_BEFORE, _KO_COUNT_AFTER):
        m = pattern.search(question)
        if m:
            head = glossary_head(m.group(1))
            if head:
                return head
    return ""


def glossary_renderings(word: str) -> tuple[str, ...]:
    """Every English word the glossary gives for a Korean word that may carry a particle or a suffix
    ("나노미터" -> "nm", "nanometer"): the renderings of the longest key it starts with, split into words."""
    for key in _KEYS:
        if word.startswith(key):
            return tuple(w for r in GLOSSARY[key] for w in r.split())
    return ()


def glossary_head(word: str) -> str | None:
    """The English noun for a Korean word that may carry a particle ("메모리가" -> "memory"): the first
    rendering of the longest key it starts with, when that is a common (lower-case) word."""
    for key in _KEYS:
        if word.startswith(key):
            first = GLOSSARY[key][0]
            return first if first.islower() else None
    return None
